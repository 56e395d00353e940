"""predictions of given structures and morphisms: the c scale of a morph and four views

Revision ID: 0004
Revises: 0003
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tcdb.schema.views import create_view_statement, drop_view_statement

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# In dependency order: the summary reads morph_prediction, the top list reads the summary.
VIEWS = {
    "structure_prediction": 1,
    "morph_prediction": 1,
    "morph_summary": 1,
    "morph_top_candidates": 1,
}


def upgrade() -> None:
    op.add_column("morph_candidate", sa.Column("lattice_scale_c", sa.Double(), nullable=True))
    for name, version in VIEWS.items():
        op.execute(create_view_statement(name, version))


def downgrade() -> None:
    for name in reversed(list(VIEWS)):
        op.execute(drop_view_statement(name))
    op.drop_column("morph_candidate", "lattice_scale_c")
