-- Every hydride named to `tcdb predict hydride` as the paper's network predicted it (the
-- reproduction), whichever model its run ranks with, newest first: the columns of
-- hydride_prediction.
SELECT
    p.formula,
    json_extract_string(p.extra_json, '$.element') AS element,
    CAST(json_extract(p.extra_json, '$.n') AS DOUBLE) AS n_h,
    p.tc_K,
    p.tc_std_K,
    p.pressure_GPa,
    p.pressure_std_GPa,
    p.distance_to_ambient,
    p.distance_std,
    p.distance_to_ambient + p.distance_std AS distance_upper,
    p.in_domain,
    p.domain_reason,
    CAST(json_extract(p.extra_json, '$.element_distance') AS DOUBLE) AS element_distance,
    json_extract_string(p.extra_json, '$.nearest_trained_element') AS nearest_trained_element,
    p.model_run_id,
    mr.snapshot_id,
    p.created_at,
    'network' AS model
FROM prediction AS p
JOIN model_run AS mr ON mr.id = p.model_run_id
WHERE p.subject_kind = 'hydride_query'
ORDER BY p.created_at DESC, p.formula
