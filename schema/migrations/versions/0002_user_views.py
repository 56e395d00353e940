"""user views: measurements with their sources, latest prediction per subject and model

Revision ID: 0002
Revises: 0001
"""
from collections.abc import Sequence

from alembic import op

from tcdb.schema.views import create_view_statement, drop_view_statement

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEWS = {"measurement_with_source": 1, "latest_prediction": 1}


def upgrade() -> None:
    for name, version in VIEWS.items():
        op.execute(create_view_statement(name, version))


def downgrade() -> None:
    for name in VIEWS:
        op.execute(drop_view_statement(name))
