-- Every EH_n predicted by the most recent hydride screening run, by the model that run ranks
-- with (model: the network or the forest, the one its rule chose from its out-of-fold scores
-- grouped by formula; recorded in the run and in each row): T_c (K), P (GPa), their spreads
-- (over the network's members or the forest's trees), the distance to ambient D = |P/GPa| +
-- |T_c/K - 293| at the mean with the spread of the members' own D (distance_std) and D + that
-- spread (distance_upper), and that model's applicability domain: in_domain, the failed checks
-- (domain_reason, NULL when in domain), the standardised distance of E to the nearest trained
-- element and that element. Rows of runs screened before a model was chosen are the network's
-- (NULL domain for rows screened before the domain existed). The paper's network's rows of the
-- same run: hydride_screening_network.
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
    coalesce(json_extract_string(p.extra_json, '$.model'), 'network') AS model
FROM prediction AS p
JOIN model_run AS mr ON mr.id = p.model_run_id
JOIN material AS m ON m.id = p.material_id
WHERE p.subject_kind IN ('hydride', 'hydride_forest')
  AND coalesce(json_extract_string(p.extra_json, '$.model'), 'network')
      = coalesce(json_extract_string(p.extra_json, '$.chosen_model'), 'network')
  AND p.model_run_id = (
      SELECT p2.model_run_id FROM prediction AS p2
      JOIN model_run AS r2 ON r2.id = p2.model_run_id
      WHERE p2.subject_kind = 'hydride'
      ORDER BY r2.finished_at DESC NULLS LAST, p2.created_at DESC LIMIT 1
  )
