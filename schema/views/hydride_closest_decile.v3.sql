-- The 10 % of the EH_n inside the run's applicability domain with the lowest distance to
-- ambient (Hutcheon et al. 2020, Fig. 4), as the model the run ranks with predicted them: every
-- row up to the tenth's bound, so more than a tenth where D ties there (a forest predicts in
-- steps); equal D rank by element and n. hydride_closest_decile_all takes every EH_n.
SELECT *
FROM hydride_screening
WHERE in_domain
  AND distance_to_ambient <= (
      SELECT quantile_disc(distance_to_ambient, 0.10) FROM hydride_screening WHERE in_domain
  )
ORDER BY distance_to_ambient, element, n_h
