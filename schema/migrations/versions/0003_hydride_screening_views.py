"""hydride screening views: every EH_n, the best n per element, the decile closest to ambient

Revision ID: 0003
Revises: 0002
"""
from collections.abc import Sequence

from alembic import op

from tcdb.schema.views import create_view_statement, drop_view_statement

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# In dependency order: the last two read the first.
VIEWS = {"hydride_screening": 1, "hydride_best_per_element": 1, "hydride_closest_decile": 1}


def upgrade() -> None:
    for name, version in VIEWS.items():
        op.execute(create_view_statement(name, version))


def downgrade() -> None:
    for name in reversed(list(VIEWS)):
        op.execute(drop_view_statement(name))
