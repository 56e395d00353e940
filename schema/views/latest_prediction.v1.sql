-- The most recent prediction of each model for each subject (structure, material, EH_n, morph).
SELECT
    p.*,
    mr.model,
    mr.snapshot_id,
    mr.profile,
    mr.finished_at AS model_run_finished_at
FROM prediction AS p
JOIN model_run AS mr ON mr.id = p.model_run_id
QUALIFY row_number() OVER (
    PARTITION BY mr.model, p.subject_kind, p.subject_id
    ORDER BY mr.finished_at DESC NULLS LAST, p.created_at DESC
) = 1
