"""the hydride applicability domain: in_domain, domain_reason and distance_std on prediction

Every hydride prediction says whether the run's ensemble may be trusted on it (its n within
the trained range, its element near a trained element, its members agreeing) and why not; the
spread of D over the members gives D an uncertainty. Older rows and other models keep NULL.
The screening view gains the verdict; the best n per element and the decile closest to ambient
are ranked over the in-domain rows, with ``_all`` views over every row beside them; the
hydrides named to ``tcdb predict hydride`` get their own view. DuckDB refuses a view whose
source changed its columns, so ``latest_prediction`` (``p.*``) and the views reading
``hydride_screening`` are created again.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from tcdb.schema.views import create_view_statement, drop_view_statement

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (version before, version after), in dependency order; None: the view is new here.
VIEWS = {
    "latest_prediction": (1, 1),
    "hydride_screening": (1, 2),
    "hydride_best_per_element": (1, 2),
    "hydride_closest_decile": (1, 2),
    "hydride_best_per_element_all": (None, 1),
    "hydride_closest_decile_all": (None, 1),
    "hydride_prediction": (None, 1),
}
COLUMNS = ("distance_std", "in_domain", "domain_reason")


def upgrade() -> None:
    op.add_column("prediction", sa.Column("distance_std", sa.Double(), nullable=True))
    op.add_column("prediction", sa.Column("in_domain", sa.Boolean(), nullable=True))
    op.add_column("prediction", sa.Column("domain_reason", sa.Text(), nullable=True))
    for name, (_, version) in VIEWS.items():
        op.execute(create_view_statement(name, version))


def downgrade() -> None:
    for name in reversed(list(VIEWS)):
        op.execute(drop_view_statement(name))
    for column in reversed(COLUMNS):
        op.drop_column("prediction", column)
    for name, (version, _) in VIEWS.items():
        if version is not None:
            op.execute(create_view_statement(name, version))
