"""ingest_run.active_high_water: the most active records a source has had, after each run

A file may retire at most ``max_retired_share`` (20 %) of its source's active records, but two
steps of 18 % each took 33 % without a word. Each run now records the source's high-water mark
(the most records it has had active since retirements were last accepted, counting this run),
and a run that would leave fewer than 80 % of it is refused unless the user accepts the
retirements, which sets the mark to what that run leaves. Runs before this revision have NULL:
the next run starts the mark from the records active then.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("ingest_run", sa.Column("active_high_water", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("ingest_run", "active_high_water")
