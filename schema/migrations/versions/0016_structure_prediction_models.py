"""structure_prediction shows the structure model that predicted each structure last

``tcdb predict`` now predicts with the model the selection rule chooses (the structure
experts, whose rows carry a domain verdict) unless ``--run`` names another; the view read
only the network's rows. It now shows each structure's latest prediction by either structure
model, with the model's name and the domain verdict. No table changes.

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

from alembic import op

from tcdb.schema.views import create_view_statement, drop_view_statement

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEW = "structure_prediction"


def upgrade() -> None:
    op.execute(drop_view_statement(VIEW))
    op.execute(create_view_statement(VIEW, 3))


def downgrade() -> None:
    op.execute(drop_view_statement(VIEW))
    op.execute(create_view_statement(VIEW, 2))
