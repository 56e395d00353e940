-- Per element E, the n of EH_n closest to ambient conditions among the EH_n inside the run's
-- applicability domain (Hutcheon et al. 2020, Fig. 5), as the model the run ranks with
-- predicted them (hydride_screening); an element with no n in the domain has no row
-- (hydride_best_per_element_all ranks every n). Equal D (a forest predicts in steps) rank by
-- element.
SELECT *
FROM hydride_screening
WHERE in_domain
QUALIFY row_number() OVER (PARTITION BY element ORDER BY distance_to_ambient, n_h) = 1
ORDER BY distance_to_ambient, element
