"""The structure experts' parameters, with their defaults: the profiles, the gate between the
experts, each expert's trees, the spread's calibration and the applicability domain.

Why here: they are this model's alone. A run records every value (``ExpertsConfig`` in its
manifest), so a result can still be traced to them.

The design was chosen on the validation part of the grouped split of the default snapshot
(336 structures; the test part was not read), 2026-12-07, docs/models.md "Structure experts":
the composition trees alone reach r² 0.88 on its 330 SuperCon structures but miss its 6
literature hydrides by 140 K RMSE, a forest on the 175 descriptors of every training
structure reaches r² 0.73 on the SuperCon structures and misses the hydrides by 84 K; sending
the hydrides to a forest trained on the hydrides and the rest to the composition trees gave
r² 0.87 overall (gates at H fractions of 0.3 to 0.7 alike), where a forest with the
composition trees' out-of-fold prediction as an input gave 0.86, the same on log T_c 0.82,
gradient-boosted trees on the descriptors 0.87 (SuperCon 0.78) and the composition
prediction plus a forest of its residual 0.80.
"""

from __future__ import annotations

# Fields of ml.structure_experts.training.ExpertsConfig. "quick" is what `make run` trains.
EXPERTS_PROFILES: dict[str, dict[str, object]] = {
    "quick": {},
    "paper": {"hydride_trees": 1000, "composition_members": 5},
    "smoke": {
        "hydride_trees": 20,
        "composition_rounds": 20,
        "composition_members": 2,
        "structure_trees": "smoke",
    },
}

# The composition expert's T_c is (1 - share) × the trees on SuperCon entries + share × the
# composition model's trees (profile ``structure_trees`` of ExpertsConfig) on the training
# structures' formulas. Chosen on the default snapshot's grouped split, 2026-12-08, from
# out-of-fold predictions over its training and validation parts (5 folds grouped by formula;
# the test part was not read; benchmarks/experts_design.py): the share from 0, 0.2,
# 0.25, 0.3, 1/3, 0.4 and 0.5 and the trees from the composition profiles "paper" and "quick",
# the pair with the highest r² over the 1,852 structures. Paper trees with 1/3: r² 0.811,
# against 0.801 for the entries' trees alone (the same share gave 0.761 against 0.743 over the
# grouped-by-system split's training and validation parts, 0.802 against 0.812 over the
# by-time split's).
STRUCTURES_SHARE = 1 / 3
# The hydride forest's share of the 175 descriptors tried at each split and its smallest leaf.
# Chosen the same way, with the share above, from 1/3, 0.5, 2/3 and 1 by 1, 2 and 4: every
# descriptor and leaves of 2 gave r² 0.824 over the 1,852 structures (hydrides alone 0.500),
# against 0.811 (0.430) for a third of them and leaves of 1; over the grouped-by-system
# split's parts every descriptor was best too (leaves of 1: 0.772 against 0.761).
HYDRIDE_MAX_FEATURES = 1.0
HYDRIDE_MIN_LEAF = 2
# A structure whose atoms are more than half hydrogen goes to the hydride expert: the
# superhydrides, whose T_c follows the hydrogen sublattice and its compression, not the
# composition statistics of SuperCon (which holds one such structure among 2,320).
HYDRIDE_H_FRACTION = 0.5
# No spread is claimed smaller than this (K).
MIN_SPREAD_K = 0.1
# An expert's spread is scaled so that this share of its validation labels lie within ±1σ
# (the normal share); with fewer validation rows than CALIBRATION_MIN_ROWS it stays unscaled.
CALIBRATION_COVERAGE = 0.683
CALIBRATION_MIN_ROWS = 5
# The weights of descriptor distance in σ tried on the validation part, in units of the
# expert's median spread per median distance (0: the spread alone).
DISTANCE_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
# The weights of the predicted |T_c| in σ tried with each distance weight, in units of the
# expert's median spread per median |T_c|: errors in T_c grow with T_c. Over the out-of-fold
# predictions of the grouped split's training and validation parts (benchmarks/
# experts_design.py) a weight of 2 lowered the normal negative log-likelihood of the
# composition expert's errors from 2.39 to 1.79 (by system 2.38 to 1.79, by time 2.31 to 1.61).
TC_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
# A weight is fitted only on at least this many validation rows of the expert (the hydride
# expert has 6 in the default grouped split: two numbers from 6 errors would fit noise).
DISTANCE_MIN_ROWS = 30
