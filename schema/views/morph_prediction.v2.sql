-- Every morph candidate with the T_c of the newest cvcnn run that predicted its family, and
-- the composition baseline's latest T_c for its formula ("T_c chem", the same at every scale).
WITH family_runs AS (
    SELECT m.family, p.model_run_id, max(r.finished_at) AS finished_at
    FROM prediction AS p
    JOIN morph_candidate AS m ON m.id = p.subject_id
    JOIN model_run AS r ON r.id = p.model_run_id
    WHERE p.subject_kind = 'morph'
    GROUP BY m.family, p.model_run_id
),
newest AS (
    SELECT family, arg_max(model_run_id, finished_at) AS model_run_id
    FROM family_runs
    GROUP BY family
)
SELECT
    m.family,
    m.parent_structure_id,
    m.x_element,
    m.y_element,
    m.substitution_json,
    m.formula,
    m.lattice_scale,
    m.lattice_scale_c,
    m.a_A,
    m.c_A,
    CAST(json_extract(p.extra_json, '$.spacegroup_number') AS INTEGER) AS spacegroup_number,
    p.tc_K,
    p.tc_std_K,
    c.tc_K AS composition_tc_K,
    p.model_run_id,
    m.id AS candidate_id
FROM morph_candidate AS m
JOIN newest AS n ON n.family = m.family
JOIN prediction AS p
    ON p.subject_kind = 'morph'
    AND p.subject_id = m.id
    AND p.model_run_id = n.model_run_id
LEFT JOIN latest_prediction AS c
    ON c.model = 'composition'
    AND c.subject_kind = 'composition'
    AND c.subject_id = m.formula
