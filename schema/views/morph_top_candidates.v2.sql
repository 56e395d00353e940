-- The 25 morphs of each family with the highest peak T_c (Novakovic et al. 2023, Table III);
-- morphs of equal peak (an X/Y swap that gives the same cell) in a fixed order: by formula,
-- then the X and Y elements, the reference structure and the substitution.
SELECT
    row_number() OVER (
        PARTITION BY family
        ORDER BY tc_peak_K DESC, formula, x_element, y_element, parent_structure_id,
            substitution_json
    ) AS rank,
    *
FROM morph_summary
QUALIFY rank <= 25
ORDER BY family, rank
