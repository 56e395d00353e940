-- Every measurement with its material and the source it came from, including deprecated ones
-- (filter on status = 'active' for the usable set).
SELECT
    m.id AS measurement_id,
    mat.reduced_formula,
    m.material_id,
    m.tc_kind,
    m.tc_K,
    m.tc_low_K,
    m.tc_high_K,
    m.pressure_GPa,
    m.mu_star,
    m.space_group,
    m.method,
    m.status,
    m.deprecation_reason,
    m.origin_table,
    m.origin_id,
    s.id AS source_id,
    s.title AS source_title,
    s.citation AS source_citation,
    s.licence AS source_licence,
    r.file_path AS source_file,
    r.file_sha256 AS source_file_sha256
FROM measurement AS m
LEFT JOIN material AS mat ON mat.id = m.material_id
LEFT JOIN source AS s ON s.id = m.source_id
LEFT JOIN ingest_run AS r ON r.id = m.ingest_run_id
