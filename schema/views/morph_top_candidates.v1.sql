-- The 25 morphs of each family with the highest peak T_c (Novakovic et al. 2023, Table III).
SELECT
    row_number() OVER (PARTITION BY family ORDER BY tc_peak_K DESC, formula) AS rank,
    *
FROM morph_summary
QUALIFY rank <= 25
ORDER BY family, rank
