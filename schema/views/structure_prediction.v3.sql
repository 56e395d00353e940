-- The latest prediction of each structure given to `tcdb predict` (keyed by a content hash of
-- the structure), by the structure model that made it last (`model`: the selection rule's
-- choice unless --run named another), with its domain verdict (NULL for a model without one)
-- and the composition baseline's latest prediction for its formula beside it.
SELECT
    s.subject_id AS structure_hash,
    json_extract_string(s.extra_json, '$.name') AS name,
    s.input_path,
    s.formula,
    CAST(json_extract(s.extra_json, '$.spacegroup_number') AS INTEGER) AS spacegroup_number,
    s.tc_K,
    s.tc_std_K,
    s.in_domain,
    s.domain_reason,
    s.model,
    c.tc_K AS composition_tc_K,
    s.tc_K - c.tc_K AS structure_minus_composition_K,
    s.model_run_id,
    c.model_run_id AS composition_run_id,
    s.created_at
FROM latest_prediction AS s
LEFT JOIN latest_prediction AS c
    ON c.model = 'composition'
    AND c.subject_kind = 'composition'
    AND c.subject_id = s.formula
WHERE s.model IN ('cvcnn', 'structure-experts') AND s.subject_kind = 'input_structure'
QUALIFY row_number() OVER (
    PARTITION BY s.subject_id ORDER BY s.created_at DESC, s.model_run_finished_at DESC NULLS LAST
) = 1
