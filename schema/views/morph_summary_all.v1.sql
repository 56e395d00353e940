-- One row per morph (reference structure and substitution) over every lattice scale the
-- ranking run predicted, inside its applicability domain or not: the peak and lowest T_c, the
-- primitive a at each, whether the peak lies in the domain and how many scales do (NULL for a
-- run without a domain). morph_summary keeps the scales inside the domain only.
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
    count(*) FILTER (WHERE in_domain) AS n_in_domain,
    arg_max(in_domain, tc_K) AS peak_in_domain,
    arg_max(domain_reason, tc_K) AS peak_domain_reason,
    any_value(spacegroup_number) AS spacegroup_number,
    any_value(composition_tc_K) AS composition_tc_K,
    any_value(model_run_id) AS model_run_id
FROM morph_prediction
GROUP BY family, parent_structure_id, substitution_json, x_element, y_element, formula
