"""The structural T_c model of Novakovic et al. (2023): a crystal read as Fourier coefficients
of its densities plus 175 numerical descriptors, the complex-valued network and its ensembles,
the baselines it is scored beside, a trained run loaded back to predict given structures and
morphs of reference structures, the ``external`` protocol of ``tcdb evaluate``, and its
parameters.

The contract declaration is ``model.py``; ``ml/registry.py`` lists it. Nothing here imports
another model's package: the composition model its baselines take their trees from is found
among the registered models (``FitContext.models``), and the composition run whose
predictions are stored beside its own is handed in by the command.
"""
