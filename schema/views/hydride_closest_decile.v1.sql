-- The 10 % of screened EH_n with the lowest distance to ambient (Hutcheon et al. 2020, Fig. 4).
SELECT *
FROM hydride_screening
WHERE distance_to_ambient <= (
    SELECT quantile_disc(distance_to_ambient, 0.10) FROM hydride_screening
)
ORDER BY distance_to_ambient
