"""The composition-only model ("T_c chem"; Hamidieh 2018): gradient-boosted trees on the
composition descriptors shared with the structural model (``ml.composition_descriptors``), an
ensemble with a spread, the trees stored in formats that load without running code, and its
parameters.

The contract declaration is ``model.py``; ``ml/registry.py`` lists it. Nothing here imports
another model's package.
"""
