"""screening_job and screening_shard: resumable screenings on an execution engine

A screening run on Ray (``--engine ray``) is cut into shards whose results are written as
Parquet files in a job folder beside the database and loaded by the one process that writes
the file. ``screening_job`` names each job (its id is a hash of its inputs unless given with
``--job``) and what it was run with; ``screening_shard`` records each finished shard under the key
``job#shard``, so a job run again after a crash loads or computes only what is missing and a
shard loaded twice adds nothing.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString()
    op.create_table(
        "screening_job",
        sa.Column("id", text, nullable=False),
        sa.Column("command", text, nullable=False),
        sa.Column("model_run_id", text, nullable=False),
        sa.Column("engine", text, nullable=False),
        sa.Column("shards", sa.Integer(), nullable=False),
        sa.Column("folder", text, nullable=False),
        sa.Column("inputs_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "screening_shard",
        sa.Column("id", text, nullable=False),
        sa.Column("job_id", text, nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("predicted", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),  # "job#shard": one row per job and shard
    )


def downgrade() -> None:
    op.drop_table("screening_shard")
    op.drop_table("screening_job")
