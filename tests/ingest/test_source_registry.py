"""A source is one module and one registry line: a tiny CSV source defined and registered here
is ingested by the pipeline, in its own group and in ``all``, with no other file changed."""

from __future__ import annotations

import ast
import csv
import re
from pathlib import Path

import pytest

from tcdb.core.composition import normalise
from tcdb.core.hashing import file_sha256, record_id
from tcdb.core.parameters import INGEST, IngestParameters
from tcdb.core.records import Rejection
from tcdb.core.supercon_formula import parse_supercon_formula
from tcdb.ingest import pipeline
from tcdb.ingest.registry import REGISTRY, Group, Registered, Registry
from tcdb.ingest.runs import Batch, RejectedRecord
from tcdb.ingest.source_info import SourceInfo
from tcdb.ingest.validation import check_tc
from tcdb.schema.bulk import rows_table
from tcdb.schema.database import connect
from tests.conftest import REPO, query
from tests.ingest.slices import make_sources

TINY_CSV = "tiny/points.csv"
TINY_ROWS = "formula,tc_K\nLaH10,250\nH3S,203\nYH6,-3\n"  # the last T_c is impossible


class TinySource:
    """A CSV of ``formula,tc_K`` as literature entries and measurements, keeping the contract
    of ``ingest/contract.py``; it counts its fingerprints and what ``build`` was given."""

    info = SourceInfo(
        id="tiny_points",
        kind="dataset",
        title="Three hydride points",
        path=TINY_CSV,
        citation="written by the test",
        licence="CC0",
    )

    def __init__(self) -> None:
        self.fingerprints: list[str] = []
        self.built_with: list[str] = []

    def fingerprint(self, path: Path) -> str:
        self.fingerprints.append(file_sha256(path))
        return self.fingerprints[-1]

    def build(self, path: Path, params: IngestParameters, fingerprint: str) -> Batch:
        self.built_with.append(fingerprint)
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        entries, measurements, rejected, compositions = [], [], [], {}
        for line, row in enumerate(rows, start=2):
            problem = check_tc(float(row["tc_K"]), params)
            parsed = parse_supercon_formula(row["formula"])
            composition = problem or normalise(parsed.amounts, params)
            if isinstance(composition, Rejection):
                rejected.append(RejectedRecord(f"line {line}", composition, row))
                continue
            entry_id = record_id("tiny", row["formula"], row["tc_K"])
            compositions[composition.material_id] = composition
            entries.append(
                {"id": entry_id, "source_id": self.info.id, "ingest_run_id": None,
                 "line_number": line, "added_by": "source_file", "formula": row["formula"],
                 "material_id": composition.material_id, "tc_K": float(row["tc_K"]),
                 "excluded_from_training": False, "status": "active", "created_at": None}
            )  # fmt: skip
            measurements.append(
                {"id": record_id("meas", "literature_entry", entry_id),
                 "material_id": composition.material_id, "source_id": self.info.id,
                 "origin_table": "literature_entry", "origin_id": entry_id,
                 "ingest_run_id": None, "tc_kind": "value", "tc_K": float(row["tc_K"]),
                 "method": "experiment", "status": "active", "created_at": None}
            )  # fmt: skip
        return Batch(
            source=self.info,
            file_path=str(path),
            file_sha256=fingerprint,
            parameters=params.as_dict(),
            n_records=len(rows),
            record_table="literature_entry",
            tables={
                "literature_entry": rows_table(entries),
                "measurement": rows_table(measurements),
            },
            compositions=compositions,
            accepted_ids=[e["id"] for e in entries],
            rejected=rejected,
        )


def write_tiny(sources: Path) -> Path:
    path = sources / TINY_CSV
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(TINY_ROWS, encoding="utf-8")
    return path


def ingest_with(db: Path, registry: Registry, group: str, sources: Path, **kwargs) -> dict:
    conn = connect(db)
    try:
        outcomes = pipeline.ingest(conn, group, sources, registry=registry, **kwargs)
    finally:
        conn.close()
    return {o.source_id: o for o in outcomes}


def test_a_source_in_a_new_group_is_ingested_fingerprinted_once_per_run(migrated_db, tmp_path):
    sources = tmp_path / "sources"
    sha = file_sha256(write_tiny(sources))
    tiny = TinySource()
    registry = REGISTRY.plus(Registered("tiny", tiny), groups=(Group("tiny", "Tiny points."),))
    assert registry.names[-2:] == ("tiny", "all")

    outcome = ingest_with(migrated_db, registry, "tiny", sources)["tiny_points"]
    assert (outcome.status, outcome.n_records, outcome.n_loaded, outcome.n_rejected) == (
        "succeeded", 3, 2, 1
    )  # fmt: skip
    assert tiny.fingerprints == [sha] and tiny.built_with == [sha], "hashed once, handed on"
    assert re.fullmatch(rf"tiny_points-\d{{8}}T\d{{12}}-{sha[:8]}", outcome.run_id)
    source_row = "SELECT file_sha256, citation FROM source WHERE id = 'tiny_points'"
    assert query(migrated_db, source_row) == [(sha, "written by the test")]
    assert query(
        migrated_db,
        "SELECT e.formula, m.tc_K FROM literature_entry e JOIN measurement m ON m.origin_id = e.id "
        "JOIN material t ON t.id = m.material_id WHERE e.source_id = 'tiny_points' ORDER BY 1",
    ) == [("H3S", 203.0), ("LaH10", 250.0)]
    assert query(migrated_db, "SELECT record_ref, reason_code FROM ingest_rejection") == [
        ("line 4", "negative_tc")
    ]

    again = ingest_with(migrated_db, registry, "tiny", sources)["tiny_points"]
    assert again.status == "unchanged"
    assert tiny.fingerprints == [sha, sha] and tiny.built_with == [sha], "not built again"
    with pytest.raises(ValueError, match="unknown source group 'tiny'"):
        ingest_with(migrated_db, REGISTRY, "tiny", sources)  # the shared registry is untouched


def test_a_source_in_an_existing_group_runs_there_and_in_all(real_sources, migrated_db, tmp_path):
    sources = make_sources(real_sources, tmp_path / "sources", 5, 5, mp_structures=2)
    write_tiny(sources)
    registry = REGISTRY.plus(Registered("literature", TinySource()))

    outcomes = ingest_with(migrated_db, registry, "all", sources)
    assert list(outcomes) == [
        "nims_supercon", "stanev_supercon", "mp_mirror", "literature_structures",
        "literature_hydrides", "reference_structures", "tiny_points",
    ]  # fmt: skip
    assert {o.status for o in outcomes.values()} == {"succeeded"}
    literature = ingest_with(migrated_db, registry, "literature", sources)
    assert literature["tiny_points"].status == "unchanged"
    assert "tiny_points" not in ingest_with(migrated_db, REGISTRY, "literature", sources)


def test_a_line_in_a_group_that_does_not_exist_is_refused():
    with pytest.raises(ValueError, match="tiny_points is registered in group 'nowhere'"):
        REGISTRY.plus(Registered("nowhere", TinySource()))


@pytest.fixture(scope="module")
def small_sources(real_sources, tmp_path_factory) -> Path:
    return make_sources(real_sources, tmp_path_factory.mktemp("small") / "sources", 5, 5, 2)


@pytest.mark.parametrize(
    "line",
    [line for line in REGISTRY.sources if line.source.info.kind == "dataset"],
    ids=lambda line: line.source.info.id,
)
def test_every_file_source_puts_the_fingerprint_it_is_given_in_its_batch(small_sources, line):
    source = line.source
    path = small_sources / source.info.path
    sha = source.fingerprint(path)
    assert re.fullmatch("[0-9a-f]{64}", sha)
    given = "f" * 64
    batch = source.build(path, INGEST, given)
    assert batch.file_sha256 == given and batch.source == source.info
    assert batch.n_records > 0


def test_the_cli_offers_every_group_of_the_registry_with_its_help():
    from tcdb.cli.ingest import app

    commands = {c.name: c.help for c in app.registered_commands}
    assert commands == REGISTRY.help_texts()
    assert list(commands) == ["supercon", "materials-project", "literature", "all"]


def _ingest_imports(path: Path) -> set[str]:
    """The ``ingest`` modules a file imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tcdb.ingest"):
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                folder = submodule.removeprefix("tcdb.").split(".")
                is_module = (REPO / Path(*folder)).with_suffix(".py").exists()
                found.add(submodule if is_module else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("tcdb.ingest.")}
    return found


def test_the_ingest_modules_import_each_other_one_way():
    modules = {}
    for path in sorted((REPO / "ingest").rglob("*.py")):
        name = ".".join(("tcdb", *path.relative_to(REPO).with_suffix("").parts))
        modules[name.removesuffix(".__init__")] = _ingest_imports(path)
    assert "tcdb.ingest.pipeline" not in modules["tcdb.ingest.sources.mp_api"]

    def visit(module: str, path: tuple[str, ...]) -> None:
        for target in modules.get(module, ()):
            assert target not in (*path, module), (
                f"import cycle: {' -> '.join((*path, module, target))}"
            )
            visit(target, (*path, module))

    for module in modules:
        visit(module, ())
