"""model_run.manifest_sha256: the SHA-256 of a run's manifest, which lists its artefacts' hashes

A run loads only when its manifest still has this hash and its files still match the manifest.
Runs recorded before this revision keep NULL: they cannot be checked, so they are refused with
a sentence asking to train them again (nothing is back-filled from files on disk).

Revision ID: 0005
Revises: 0004
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "model_run",
        sa.Column("manifest_sha256", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("model_run", "manifest_sha256")
