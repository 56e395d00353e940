"""morph rankings read the run the selection rule chose, inside its applicability domain

``tcdb morph run`` now predicts with the structure model the selection rule chooses (a model
with an applicability domain stores ``in_domain`` and ``domain_reason`` on each morph row and
``ranks`` in ``extra_json``), and the latest network beside it as the papers' reproduction.
``morph_prediction`` reads, per family, the run that ranked it, with its domain verdict;
``morph_summary`` (and so ``morph_top_candidates``) keeps the lattice scales inside the domain,
and the new ``morph_summary_all`` every scale with the verdict at the peak. No table changes.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

from alembic import op

from tcdb.schema.views import create_view_statement, drop_view_statement

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (version before, version after), in dependency order; None: the view is new here.
VIEWS = {
    "morph_prediction": (2, 3),
    "morph_summary": (2, 3),
    "morph_summary_all": (None, 1),
    "morph_top_candidates": (1, 1),
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
