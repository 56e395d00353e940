"""composition_group.label_table: the SuperCon table a group was built from

Curation groups every SuperCon table separately (one group per curation run, table and
material), so a snapshot can choose its label table. Groups written before this revision were
all built from the NIMS table, and are marked so.

Revision ID: 0006
Revises: 0005
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The only table curation grouped before this revision.
EARLIER_TABLE = "nims_supercon"


def upgrade() -> None:
    # Filled through a default rather than an UPDATE: DuckDB refuses SET NOT NULL on a table with
    # updates outstanding in the same transaction. The default is dropped again: curation
    # always names the table.
    op.add_column(
        "composition_group",
        sa.Column(
            "label_table",
            sqlmodel.sql.sqltypes.AutoString(),
            nullable=True,
            server_default=EARLIER_TABLE,
        ),
    )
    op.alter_column("composition_group", "label_table", nullable=False)
    op.alter_column("composition_group", "label_table", server_default=None)


def downgrade() -> None:
    op.drop_column("composition_group", "label_table")
