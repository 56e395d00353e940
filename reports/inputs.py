"""What a report reads: the database, the model runs' artefacts and the papers' own tables.

Every builder asks this module for its inputs and gets either the input or ``MissingInput``
with a sentence saying what to run, so a report on a database without (say) a trained
structural model still comes out, with a note in place of the missing parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from tcdb.core.errors import TcdbError
from tcdb.schema.database import Target, reading

if TYPE_CHECKING:
    from tcdb.store.model_runs import VerifiedRun

REFERENCE_TABLES = {
    "novakovic_table1": "novakovic2023_table1.csv",
    "novakovic_table2": "novakovic2023_table2.csv",
    "novakovic_table3": "novakovic2023_table3.csv",
    "hutcheon_table1": "hutcheon2020_table1.csv",
    "headline": "headline_results.csv",
}

TRAIN_HINT = {
    "cvcnn": "make train MODEL=cvcnn SNAPSHOT=default-structures",
    "composition": "make train MODEL=composition SNAPSHOT=default-structures",
    "hydride-mlp": "make train MODEL=hydride-mlp SNAPSHOT=default-hydrides",
}


class MissingInput(TcdbError):
    """An input a table or figure needs is not there yet; the message says what to run."""


@dataclass(frozen=True)
class ModelRun:
    """A model run as the report cites it."""

    id: str
    model: str
    snapshot_id: str
    profile: str | None
    path: Path
    manifest: dict
    checked: VerifiedRun  # read artefacts through it: each file is checked as it is read


@dataclass
class ReportInputs:
    """The database and where the reference tables are. The database is opened read-only for
    each query and closed at once, never while figures are drawn, so writers can go on."""

    db: Target
    reference_dir: Path

    def reading(self):
        """A read-only connection for the block (or the caller's own connection)."""
        return reading(self.db)

    def paper_table(self, key: str) -> pd.DataFrame:
        path = self.reference_dir / REFERENCE_TABLES[key]
        if not path.is_file():
            raise MissingInput(f"the paper's table {path} is not there (TCDB_SOURCES)")
        return pd.read_csv(path)

    def paper_source(self, key: str) -> str:
        return f"reference/{REFERENCE_TABLES[key]}"

    @property
    def sources_dir(self) -> Path:
        """The sources folder (TCDB_SOURCES): the reference tables' parent."""
        return self.reference_dir.parent

    def source_path(self, path: object) -> str:
        """A path as the report shows it: relative to the sources folder, so that no page
        names this machine's folders; a file outside it by its name alone."""
        if not isinstance(path, str | Path) or not str(path):
            return ""
        given = Path(path)
        for base in (self.sources_dir, self.sources_dir.resolve()):
            try:
                return given.relative_to(base).as_posix()
            except ValueError:
                continue
        try:
            return given.resolve().relative_to(self.sources_dir.resolve()).as_posix()
        except ValueError:
            return given.name

    def latest_run(self, model: str, with_metric: str | None = None) -> ModelRun:
        """The newest succeeded run of ``model`` (that stored ``with_metric``, when given: the
        composition baseline's headline is its grouped cross-validation, not a by-time run),
        checked against the database; a run that fails the check is left out of the report
        with the reason."""
        from tcdb.store.model_runs import RunIntegrityError, RunNotFoundError, resolve_run

        try:
            with self.reading() as conn:
                reference = "latest"
                if with_metric is not None:
                    found = conn.execute(
                        "SELECT id FROM model_run WHERE status = 'succeeded' AND model = ? "
                        "AND json_extract(metrics_json, '$.' || ?) IS NOT NULL "
                        "ORDER BY finished_at DESC, id DESC LIMIT 1",
                        [model, with_metric],
                    ).fetchone()
                    reference = found[0] if found else "latest"
                run = resolve_run(Path(), conn, reference, model)
        except RunNotFoundError:
            raise MissingInput(
                f"no {model} run yet ({TRAIN_HINT.get(model, 'tcdb train')})"
            ) from None
        except RunIntegrityError as exc:
            raise MissingInput(f"the latest {model} run was refused: {exc}") from None
        manifest = run.manifest
        return ModelRun(
            manifest["id"],
            model,
            manifest["snapshot_id"],
            manifest["profile"],
            run.path,
            manifest,
            run,
        )

    def frame(self, sql: str, parameters: list | None = None) -> pd.DataFrame:
        with self.reading() as conn:
            return conn.execute(sql, parameters or []).df()

    def require_rows(self, frame: pd.DataFrame, what: str, hint: str) -> pd.DataFrame:
        if frame.empty:
            raise MissingInput(f"no {what} yet ({hint})")
        return frame
