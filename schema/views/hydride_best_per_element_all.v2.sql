-- Per element E, the n of EH_n closest to ambient conditions over every screened n, inside
-- the applicability domain or not (the paper's Fig. 5 as it ranks them), as the model the run
-- ranks with predicted them. Equal D rank by element.
SELECT *
FROM hydride_screening
QUALIFY row_number() OVER (PARTITION BY element ORDER BY distance_to_ambient, n_h) = 1
ORDER BY distance_to_ambient, element
