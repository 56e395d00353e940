-- One row per morph (reference structure and substitution) over the lattice scales inside the
-- ranking run's applicability domain (every scale for a run without a domain): the peak
-- ("dome") and lowest T_c, the primitive a at each, and the composition baseline's T_c
-- (Novakovic et al. 2023, Table III and Fig. 4), with the spread at the peak. A morph with no
-- scale in the domain is not ranked; morph_summary_all shows every scale with its verdict.
SELECT
    family,
    parent_structure_id,
    substitution_json,
    x_element,
    y_element,
    formula,
    max(tc_K) AS tc_peak_K,
    arg_max(tc_std_K, tc_K) AS tc_peak_std_K,
    min(tc_K) AS tc_lowest_K,
    arg_max(a_A, tc_K) AS a_at_peak_A,
    arg_min(a_A, tc_K) AS a_at_lowest_A,
    count(*) AS n_scales,
    any_value(spacegroup_number) AS spacegroup_number,
    any_value(composition_tc_K) AS composition_tc_K,
    any_value(model_run_id) AS model_run_id
FROM morph_prediction
WHERE in_domain IS NOT FALSE
GROUP BY family, parent_structure_id, substitution_json, x_element, y_element, formula
