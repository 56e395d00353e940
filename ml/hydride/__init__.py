"""The (T_c, P) ensemble of Hutcheon et al. (2020) for binary hydrides EH_n: its descriptors,
network, training, error figures, screening and applicability domain, and its parameters.

The contract declaration is ``model.py``; ``ml/registry.py`` lists it. Nothing here imports
another model's package.
"""
