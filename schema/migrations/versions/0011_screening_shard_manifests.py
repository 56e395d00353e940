"""screening_shard_manifest: the hash of each screening shard's manifest, held by the database

A shard's Parquet files sit in the job folder beside the database, where anyone who can write
that folder could put files of their own. The job now writes a ``manifest.json`` into each
shard (every file's SHA-256, size and rows, the job, its plan and its model run) and records the
manifest's SHA-256 here before the files are renamed into place, as ``model_run`` does for a
run's folder. A shard is loaded or read only when its manifest has the recorded hash and its
files the hashes the manifest lists. Shards finished before this revision have no row and are
refused: run such a job again under another ``--job``.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString()
    op.create_table(
        "screening_shard_manifest",
        sa.Column("id", text, nullable=False),
        sa.Column("job_id", text, nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("manifest_sha256", text, nullable=False),
        sa.Column("written_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),  # "job#shard": one row per job and shard
    )


def downgrade() -> None:
    op.drop_table("screening_shard_manifest")
