"""the morph ranking breaks ties in peak T_c by formula, elements, reference and substitution

Two morphs of one family can share a peak T_c and a formula: the X/Y swap of a substitution
that gives the same cell, for one. ``morph_top_candidates`` ranked them in whatever order the
query plan gave, so ``tcdb morph top`` and the report could list them differently from one
run to the next. They now follow the formula, the X and Y elements, the reference structure
and the substitution. Only the order changes. No table changes.

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

from alembic import op

from tcdb.schema.views import create_view_statement, drop_view_statement

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (version before, version after)
VIEWS = {"morph_top_candidates": (1, 2)}


def upgrade() -> None:
    for name, (_, version) in VIEWS.items():
        op.execute(drop_view_statement(name))
        op.execute(create_view_statement(name, version))


def downgrade() -> None:
    for name, (version, _) in VIEWS.items():
        op.execute(drop_view_statement(name))
        op.execute(create_view_statement(name, version))
