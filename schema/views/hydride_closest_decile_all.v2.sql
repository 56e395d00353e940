-- The 10 % of every screened EH_n, inside the applicability domain or not, with the lowest
-- distance to ambient (the paper's Fig. 4 as it ranks them), as the model the run ranks with
-- predicted them; equal D rank by element and n.
SELECT *
FROM hydride_screening
WHERE distance_to_ambient <= (
    SELECT quantile_disc(distance_to_ambient, 0.10) FROM hydride_screening
)
ORDER BY distance_to_ambient, element, n_h
