"""the hydride rankings break ties in D by element and n

A forest predicts in steps, so when a run ranks its screen with its forest many EH_n share one
D (the actinide EH_10 of one leaf, for one) and the order of ``hydride_best_per_element``,
``hydride_closest_decile`` and their ``_all`` views among them was whatever the query plan
gave. They now order by D, then element (and n). Only the order changes. No table changes.

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

from alembic import op

from tcdb.schema.views import create_view_statement, drop_view_statement

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (version before, version after)
VIEWS = {
    "hydride_best_per_element": (2, 3),
    "hydride_closest_decile": (2, 3),
    "hydride_best_per_element_all": (1, 2),
    "hydride_closest_decile_all": (1, 2),
}


def upgrade() -> None:
    for name, (_, version) in VIEWS.items():
        op.execute(drop_view_statement(name))
        op.execute(create_view_statement(name, version))


def downgrade() -> None:
    for name, (version, _) in VIEWS.items():
        op.execute(drop_view_statement(name))
        op.execute(create_view_statement(name, version))
