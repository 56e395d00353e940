"""The migration history read straight from the revision files, without importing them.

Importing the revision modules (as Alembic's ScriptDirectory does) pulls in SQLAlchemy and
SQLModel and costs about a second; ``tcdb db status`` only needs the ids and their order.
A test checks that this reading agrees with Alembic's own.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

VERSIONS_DIR = Path(__file__).resolve().parent / "migrations" / "versions"


@dataclass(frozen=True)
class Revision:
    revision: str
    down_revision: str | None
    message: str


def _read(path: Path) -> Revision:
    module = ast.parse(path.read_text(), filename=str(path))
    values: dict[str, object] = {}
    for node in module.body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            for target in targets:
                if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                    values[target.id] = ast.literal_eval(node.value)
    docstring = ast.get_docstring(module) or ""
    if "revision" not in values:
        raise ValueError(f"Migration file {path} sets no 'revision'")
    return Revision(str(values["revision"]), values.get("down_revision"), docstring.split("\n")[0])


def history() -> list[Revision]:
    """Every revision from the first to the head; the history must be one line, no branches."""
    revisions = [_read(p) for p in sorted(VERSIONS_DIR.glob("*.py")) if p.name != "__init__.py"]
    by_parent = {}
    for rev in revisions:
        if rev.down_revision in by_parent:
            raise ValueError(
                f"Migrations {by_parent[rev.down_revision].revision} and {rev.revision} both "
                f"follow {rev.down_revision or 'base'}; merge the branches"
            )
        by_parent[rev.down_revision] = rev
    ordered, parent = [], None
    while parent in by_parent:
        ordered.append(by_parent[parent])
        parent = by_parent[parent].revision
    if len(ordered) != len(revisions):
        raise ValueError(f"Migrations in {VERSIONS_DIR} do not form one chain from the base")
    return ordered


def head() -> str:
    return history()[-1].revision


def pending(current: str | None) -> list[Revision]:
    """The revisions after ``current`` (all of them for an empty database), oldest first."""
    chain = history()
    ids = [rev.revision for rev in chain]
    if current is None:
        return chain
    if current not in ids:
        raise ValueError(f"The database is at revision {current!r}, unknown to this code")
    return chain[ids.index(current) + 1 :]
