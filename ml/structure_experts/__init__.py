"""The structure experts: composition trees for compounds, a structure forest for hydrides.

``model.py`` declares the model to the registry; ``experts.py`` fits and predicts the two
experts, ``domain.py`` says which structures lie inside what they were trained on, and
``training.py`` fits, scores and records a run (docs/models.md, "Structure experts").
"""
