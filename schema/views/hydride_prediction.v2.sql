-- Every hydride named to `tcdb predict hydride`, newest first, by the model its run ranks with
-- (model: the network or the forest, as the run's rule chose; rows stored before a model was
-- chosen are the network's): the formula as given, E and n (fractional for e.g. La4H23), T_c
-- and P with their spreads over the members (or trees), D with its spread and D + spread, and
-- the model's applicability domain verdict. The network's rows: hydride_prediction_network.
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
    coalesce(json_extract_string(p.extra_json, '$.model'), 'network') AS model
FROM prediction AS p
JOIN model_run AS mr ON mr.id = p.model_run_id
WHERE p.subject_kind IN ('hydride_query', 'hydride_query_forest')
  AND coalesce(json_extract_string(p.extra_json, '$.model'), 'network')
      = coalesce(json_extract_string(p.extra_json, '$.chosen_model'), 'network')
ORDER BY p.created_at DESC, p.formula
