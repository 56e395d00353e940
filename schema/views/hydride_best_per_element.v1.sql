-- Per element E, the n of EH_n closest to ambient conditions (Hutcheon et al. 2020, Fig. 5).
SELECT *
FROM hydride_screening
QUALIFY row_number() OVER (PARTITION BY element ORDER BY distance_to_ambient, n_h) = 1
ORDER BY distance_to_ambient
