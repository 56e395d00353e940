-- Every EH_n predicted by the paper's network (Hutcheon et al. 2020, the reproduction) in the
-- most recent hydride screening run, whichever model that run ranks with: the columns of
-- hydride_screening, its spreads over the ensemble's members and the network's own
-- applicability domain.
SELECT
    p.model_run_id,
    mr.snapshot_id,
    m.hydride_host AS element,
    CAST(json_extract(p.extra_json, '$.Z') AS INTEGER) AS Z,
    m.h_per_host AS n_h,
    p.formula,
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
    'network' AS model
FROM prediction AS p
JOIN model_run AS mr ON mr.id = p.model_run_id
JOIN material AS m ON m.id = p.material_id
WHERE p.subject_kind = 'hydride'
  AND p.model_run_id = (
      SELECT p2.model_run_id FROM prediction AS p2
      JOIN model_run AS r2 ON r2.id = p2.model_run_id
      WHERE p2.subject_kind = 'hydride'
      ORDER BY r2.finished_at DESC NULLS LAST, p2.created_at DESC LIMIT 1
  )
