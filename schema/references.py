"""Which columns point at which table's key.

DuckDB foreign keys forbid updating referenced rows and block the table rebuilds that later
migrations need, so references are declared here and checked by ``schema.integrity``.
"""

from __future__ import annotations

from typing import NamedTuple


class Reference(NamedTuple):
    table: str
    column: str
    target_table: str
    target_column: str = "id"


REFERENCES: tuple[Reference, ...] = (
    Reference("ingest_run", "source_id", "source"),
    Reference("ingest_run", "previous_run_id", "ingest_run"),
    Reference("ingest_rejection", "ingest_run_id", "ingest_run"),
    Reference("ingest_rejection", "source_id", "source"),
    Reference("raw_nims_supercon", "source_id", "source"),
    Reference("raw_nims_supercon", "ingest_run_id", "ingest_run"),
    Reference("raw_nims_supercon", "retired_run_id", "ingest_run"),
    Reference("raw_stanev_supercon", "source_id", "source"),
    Reference("raw_stanev_supercon", "ingest_run_id", "ingest_run"),
    Reference("raw_stanev_supercon", "retired_run_id", "ingest_run"),
    Reference("literature_entry", "source_id", "source"),
    Reference("literature_entry", "ingest_run_id", "ingest_run"),
    Reference("literature_entry", "material_id", "material"),
    Reference("literature_entry", "structure_id", "crystal_structure"),
    Reference("literature_entry", "retired_run_id", "ingest_run"),
    Reference("measurement", "material_id", "material"),
    Reference("measurement", "source_id", "source"),
    Reference("measurement", "ingest_run_id", "ingest_run"),
    Reference("measurement", "curation_run_id", "curation_run"),
    Reference("crystal_structure", "source_id", "source"),
    Reference("crystal_structure", "ingest_run_id", "ingest_run"),
    Reference("crystal_structure", "material_id", "material"),
    Reference("crystal_structure", "retired_run_id", "ingest_run"),
    Reference("structure_match", "material_id", "material"),
    Reference("structure_match", "structure_id", "crystal_structure"),
    Reference("structure_match", "curation_run_id", "curation_run"),
    Reference("curation_ledger", "curation_run_id", "curation_run"),
    Reference("composition_group", "curation_run_id", "curation_run"),
    Reference("composition_group", "material_id", "material"),
    Reference("snapshot", "curation_run_id", "curation_run"),
    Reference("model_run", "snapshot_id", "snapshot"),
    Reference("morph_candidate", "parent_structure_id", "crystal_structure"),
    Reference("prediction", "model_run_id", "model_run"),
    Reference("prediction", "material_id", "material"),
    Reference("prediction", "structure_id", "crystal_structure"),
    Reference("evaluation", "model_run_id", "model_run"),
    Reference("screening_job", "model_run_id", "model_run"),
    Reference("screening_shard", "job_id", "screening_job"),
    Reference("screening_shard_manifest", "job_id", "screening_job"),
)
