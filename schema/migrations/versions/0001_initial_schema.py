"""initial schema: every table of schema.models

Revision ID: 0001
Revises:
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('composition_group',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('curation_run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('material_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('n_measurements', sa.Integer(), nullable=False),
    sa.Column('n_values', sa.Integer(), nullable=False),
    sa.Column('n_not_superconducting', sa.Integer(), nullable=False),
    sa.Column('tc_mean_K', sa.Double(), nullable=True),
    sa.Column('tc_variance_K2', sa.Double(), nullable=True),
    sa.Column('tc_min_K', sa.Double(), nullable=True),
    sa.Column('tc_max_K', sa.Double(), nullable=True),
    sa.Column('values_json', sa.Text(), nullable=True),
    sa.Column('high_variance', sa.Boolean(), nullable=False),
    sa.Column('label_tc_K', sa.Double(), nullable=True),
    sa.Column('label_policy', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('crystal_structure',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source_record_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('ingest_run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('database_version', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('material_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('formula', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reduced_formula', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('n_sites', sa.Integer(), nullable=False),
    sa.Column('a_A', sa.Double(), nullable=False),
    sa.Column('b_A', sa.Double(), nullable=False),
    sa.Column('c_A', sa.Double(), nullable=False),
    sa.Column('alpha_deg', sa.Double(), nullable=False),
    sa.Column('beta_deg', sa.Double(), nullable=False),
    sa.Column('gamma_deg', sa.Double(), nullable=False),
    sa.Column('volume_A3', sa.Double(), nullable=False),
    sa.Column('density_g_cm3', sa.Double(), nullable=True),
    sa.Column('spacegroup_number', sa.Integer(), nullable=True),
    sa.Column('spacegroup_symbol', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('symprec', sa.Double(), nullable=True),
    sa.Column('pressure_GPa', sa.Double(), nullable=True),
    sa.Column('structure_json', sa.Text(), nullable=False),
    sa.Column('cif_text', sa.Text(), nullable=True),
    sa.Column('content_sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('deprecation_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('retired_run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('curation_ledger',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('curation_run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('subject_table', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('subject_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('parameters_json', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('curation_run',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('parameters_json', sa.Text(), nullable=False),
    sa.Column('summary_json', sa.Text(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tcdb_version', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('code_revision', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('ingest_rejection',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('ingest_run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('file_path', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('record_ref', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reason_code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('raw_json', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('ingest_run',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('file_path', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('file_sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('database_version', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('previous_run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('n_records', sa.Integer(), nullable=True),
    sa.Column('n_loaded', sa.Integer(), nullable=True),
    sa.Column('n_rejected', sa.Integer(), nullable=True),
    sa.Column('n_unchanged', sa.Integer(), nullable=True),
    sa.Column('n_retired', sa.Integer(), nullable=True),
    sa.Column('parameters_json', sa.Text(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('tcdb_version', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('code_revision', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('literature_entry',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('ingest_run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('line_number', sa.Integer(), nullable=True),
    sa.Column('added_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('formula', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('material_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('elements', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('n_h_per_host', sa.Double(), nullable=True),
    sa.Column('space_group', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('phase', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('pressure_GPa', sa.Double(), nullable=True),
    sa.Column('pressure_low_GPa', sa.Double(), nullable=True),
    sa.Column('pressure_high_GPa', sa.Double(), nullable=True),
    sa.Column('tc_K', sa.Double(), nullable=True),
    sa.Column('tc_low_K', sa.Double(), nullable=True),
    sa.Column('tc_high_K', sa.Double(), nullable=True),
    sa.Column('mu_star', sa.Double(), nullable=True),
    sa.Column('mu_star_low', sa.Double(), nullable=True),
    sa.Column('mu_star_high', sa.Double(), nullable=True),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('reference', sa.Text(), nullable=True),
    sa.Column('doi', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('read_in', sa.Text(), nullable=True),
    sa.Column('flags', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('structure_file', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('structure_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('excluded_from_training', sa.Boolean(), nullable=False),
    sa.Column('exclusion_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('deprecation_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('raw_json', sa.Text(), nullable=True),
    sa.Column('retired_run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('material',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reduced_formula', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('composition_json', sa.Text(), nullable=False),
    sa.Column('fractions_json', sa.Text(), nullable=False),
    sa.Column('chemical_system', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('n_elements', sa.Integer(), nullable=False),
    sa.Column('hydrogen_fraction', sa.Double(), nullable=False),
    sa.Column('hydride_host', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('h_per_host', sa.Double(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('measurement',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('material_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('origin_table', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('origin_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('ingest_run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('curation_run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('tc_kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tc_K', sa.Double(), nullable=True),
    sa.Column('tc_low_K', sa.Double(), nullable=True),
    sa.Column('tc_high_K', sa.Double(), nullable=True),
    sa.Column('tc_upper_bound_K', sa.Double(), nullable=True),
    sa.Column('pressure_GPa', sa.Double(), nullable=True),
    sa.Column('pressure_low_GPa', sa.Double(), nullable=True),
    sa.Column('pressure_high_GPa', sa.Double(), nullable=True),
    sa.Column('mu_star', sa.Double(), nullable=True),
    sa.Column('space_group', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('phase', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('structure_type', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('flags', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('deprecation_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('deprecated_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('model_run',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('model', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('snapshot_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('profile', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('config_json', sa.Text(), nullable=False),
    sa.Column('metrics_json', sa.Text(), nullable=True),
    sa.Column('manifest_json', sa.Text(), nullable=True),
    sa.Column('artefact_path', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('library_versions_json', sa.Text(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tcdb_version', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('code_revision', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('morph_candidate',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('parent_structure_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('family', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('substitution_json', sa.Text(), nullable=False),
    sa.Column('x_element', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('y_element', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('lattice_scale', sa.Double(), nullable=False),
    sa.Column('a_A', sa.Double(), nullable=True),
    sa.Column('c_A', sa.Double(), nullable=True),
    sa.Column('formula', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('structure_json', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('prediction',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('model_run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('subject_kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('subject_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('material_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('structure_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('formula', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('tc_K', sa.Double(), nullable=True),
    sa.Column('tc_std_K', sa.Double(), nullable=True),
    sa.Column('pressure_GPa', sa.Double(), nullable=True),
    sa.Column('pressure_std_GPa', sa.Double(), nullable=True),
    sa.Column('distance_to_ambient', sa.Double(), nullable=True),
    sa.Column('input_path', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('extra_json', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('raw_nims_supercon',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('ingest_run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('line_number', sa.Integer(), nullable=False),
    sa.Column('num', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('element', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('str3', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('utc', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('tc', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('journal', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('retired_run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('raw_stanev_supercon',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('ingest_run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('line_number', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('tc', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('retired_run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('snapshot',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('parameters_json', sa.Text(), nullable=False),
    sa.Column('manifest_json', sa.Text(), nullable=False),
    sa.Column('n_entries', sa.Integer(), nullable=False),
    sa.Column('n_structures', sa.Integer(), nullable=False),
    sa.Column('curation_run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('tcdb_version', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('code_revision', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('source',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('citation', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('licence', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('doi', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('file_sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('size_bytes', sa.Integer(), nullable=True),
    sa.Column('registered_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('structure_match',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('material_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('structure_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('composition_distance', sa.Double(), nullable=False),
    sa.Column('tolerance', sa.Double(), nullable=True),
    sa.Column('curation_run_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('structure_match')
    op.drop_table('source')
    op.drop_table('snapshot')
    op.drop_table('raw_stanev_supercon')
    op.drop_table('raw_nims_supercon')
    op.drop_table('prediction')
    op.drop_table('morph_candidate')
    op.drop_table('model_run')
    op.drop_table('measurement')
    op.drop_table('material')
    op.drop_table('literature_entry')
    op.drop_table('ingest_run')
    op.drop_table('ingest_rejection')
    op.drop_table('curation_run')
    op.drop_table('curation_ledger')
    op.drop_table('crystal_structure')
    op.drop_table('composition_group')
