"""the hydride screen ranks with the model its run chose: the forest's rows beside the network's

A hydride-mlp run now keeps its random forest beside the network and chooses, by a stated rule
on its grouped out-of-fold scores, which of the two ranks the screen; every hydride prediction
row names its model and the run's choice in ``extra_json`` (the forest's rows under the
subject kinds ``hydride_forest`` and ``hydride_query_forest``). ``hydride_screening`` and
``hydride_prediction`` show the chosen model's rows with a ``model`` column (older rows are
the network's, the only model they had); ``hydride_screening_network`` and
``hydride_prediction_network`` keep the paper's network's rows. No table changes. DuckDB
refuses a view whose source changed its columns, so the views reading ``hydride_screening``
are created again.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

from alembic import op

from tcdb.schema.views import create_view_statement, drop_view_statement

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (version before, version after), in dependency order; None: the view is new here.
VIEWS = {
    "hydride_screening": (2, 3),
    "hydride_best_per_element": (2, 2),
    "hydride_closest_decile": (2, 2),
    "hydride_best_per_element_all": (1, 1),
    "hydride_closest_decile_all": (1, 1),
    "hydride_screening_network": (None, 1),
    "hydride_prediction": (1, 2),
    "hydride_prediction_network": (None, 1),
}


def upgrade() -> None:
    for name in reversed(list(VIEWS)):
        op.execute(drop_view_statement(name))
    for name, (_, version) in VIEWS.items():
        op.execute(create_view_statement(name, version))


def downgrade() -> None:
    for name in reversed(list(VIEWS)):
        op.execute(drop_view_statement(name))
    for name, (version, _) in VIEWS.items():
        if version is not None:
            op.execute(create_view_statement(name, version))
