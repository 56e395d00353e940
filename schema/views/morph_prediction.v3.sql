-- Every morph candidate with the T_c of the run that ranks its family: the newest run whose
-- rows of the family say it ranked them (extra_json.ranks, written by `tcdb morph run` for the
-- model the selection rule chose), else the newest run that predicted the family; with that
-- run's domain verdict (in_domain, domain_reason: NULL for a run without a domain, such as the
-- network) and the composition baseline's latest T_c for its formula ("T_c chem").
WITH family_runs AS (
    SELECT
        m.family,
        p.model_run_id,
        max(r.finished_at) AS finished_at,
        bool_or(coalesce(CAST(json_extract(p.extra_json, '$.ranks') AS BOOLEAN), false)) AS ranks
    FROM prediction AS p
    JOIN morph_candidate AS m ON m.id = p.subject_id
    JOIN model_run AS r ON r.id = p.model_run_id
    WHERE p.subject_kind = 'morph'
    GROUP BY m.family, p.model_run_id
),
newest AS (
    SELECT family, model_run_id
    FROM family_runs
    QUALIFY row_number() OVER (
        PARTITION BY family ORDER BY ranks DESC, finished_at DESC, model_run_id DESC
    ) = 1
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
    p.in_domain,
    p.domain_reason,
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
