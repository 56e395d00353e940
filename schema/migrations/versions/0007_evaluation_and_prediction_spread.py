"""the evaluation table (a run scored on a labelled set) and the ensemble spread in the views

``tcdb evaluate`` stores one ``evaluation`` row per run and labelled set; the views that show
structural predictions gain ``tc_std_K`` (``morph_summary``: the spread at the peak). DuckDB
refuses a view whose source changed its columns, so ``morph_top_candidates`` (``SELECT *`` of
the summary) is created again after it.

Revision ID: 0007
Revises: 0005
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from tcdb.schema.views import create_view_statement

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# In dependency order: the summary reads morph_prediction, the top list reads the summary.
VIEWS = {
    "structure_prediction": (1, 2),
    "morph_prediction": (1, 2),
    "morph_summary": (1, 2),
    "morph_top_candidates": (1, 1),
}


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString()
    op.create_table(
        "evaluation",
        sa.Column("id", text, nullable=False),
        sa.Column("model_run_id", text, nullable=False),
        sa.Column("protocol", text, nullable=False),
        sa.Column("inputs_sha256", text, nullable=False),
        sa.Column("inputs_json", sa.Text(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("metrics_json", sa.Text(), nullable=False),
        sa.Column("plot_path", text, nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for name, (_, version) in VIEWS.items():
        op.execute(create_view_statement(name, version))


def downgrade() -> None:
    for name, (version, _) in VIEWS.items():
        op.execute(create_view_statement(name, version))
    op.drop_table("evaluation")
