"""raw_nims_supercon.reference_year: the year each NIMS SuperCon record was published

The year is read from the record's ``journal`` text (``core.references.reference_year``, its
rule in the docstring) so a model can be trained on the past and tested on what came later.
Existing rows are back-filled from ``journal`` here, so a database gains the years without
re-ingesting; a record whose reference states no year keeps NULL.

Revision ID: 0009
Revises: 0008
"""

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tcdb.core.references import reference_year

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "raw_nims_supercon"


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("reference_year", sa.Integer(), nullable=True))
    bind = op.get_bind()
    journals = bind.execute(
        sa.text(f"SELECT DISTINCT journal FROM {TABLE} WHERE journal IS NOT NULL")
    ).scalars()
    by_year: dict[int, list[str]] = defaultdict(list)
    for journal in journals:
        year = reference_year(journal)
        if year is not None:
            by_year[year].append(journal)
    for year, texts in sorted(by_year.items()):  # one UPDATE per year, not per record
        bind.execute(
            sa.text(
                f"UPDATE {TABLE} SET reference_year = :year "
                "WHERE journal IN (SELECT unnest(CAST(:texts AS VARCHAR[])))"
            ),
            {"year": year, "texts": texts},
        )


def downgrade() -> None:
    op.drop_column(TABLE, "reference_year")
