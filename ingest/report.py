"""What the latest ingest of each source gave: counts and rejection reasons, from the database."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class SourceReport:
    source_id: str
    run_id: str
    file_path: str | None
    finished_at: str
    n_records: int
    n_loaded: int
    n_unchanged: int
    n_rejected: int
    n_retired: int
    reasons: list[tuple[str, int, str]]  # (reason code, count, example "line: reason")
    # (active records, those whose reference gives a year) for a table that stores years
    years: tuple[int, int] | None = None


# Record tables that store the year of each record's reference, by source.
YEAR_TABLES = {"nims_supercon": "raw_nims_supercon"}


def reference_year_counts(conn: duckdb.DuckDBPyConnection, source_id: str) -> tuple[int, int]:
    """(active records, records with a reference year) of a source that stores years; a
    record without one is kept all the same."""
    table = YEAR_TABLES[source_id]
    total, with_year = conn.execute(
        f'SELECT count(*), count(reference_year) FROM "{table}" '
        "WHERE source_id = ? AND retired_run_id IS NULL",
        [source_id],
    ).fetchone()
    return int(total), int(with_year)


def latest_reports(conn: duckdb.DuckDBPyConnection) -> list[SourceReport]:
    """One report per source, from its most recent succeeded run."""
    runs = conn.execute(
        """
        SELECT id, source_id, file_path, finished_at, n_records, n_loaded, n_unchanged,
               n_rejected, n_retired
        FROM ingest_run WHERE status = 'succeeded'
        QUALIFY row_number() OVER (PARTITION BY source_id ORDER BY started_at DESC) = 1
        ORDER BY source_id
        """
    ).fetchall()
    reports = []
    for run_id, source_id, path, finished, n, loaded, unchanged, rejected, retired in runs:
        reasons = conn.execute(
            """
            SELECT reason_code, count(*) AS n,
                   first(record_ref || ': ' || reason ORDER BY
                         try_cast(regexp_extract(record_ref, '[0-9]+') AS BIGINT) NULLS LAST,
                         record_ref)
            FROM ingest_rejection WHERE ingest_run_id = ?
            GROUP BY reason_code ORDER BY n DESC, reason_code
            """,
            [run_id],
        ).fetchall()
        reports.append(
            SourceReport(
                source_id, run_id, path, str(finished), n, loaded, unchanged, rejected, retired,
                [(code, count, example) for code, count, example in reasons],
                reference_year_counts(conn, source_id) if source_id in YEAR_TABLES else None,
            )
        )  # fmt: skip
    return reports


def format_reports(reports: list[SourceReport]) -> str:
    if not reports:
        return "Nothing has been ingested yet; run 'tcdb ingest all'."
    lines = [
        f"{'source':<22} {'records':>8} {'loaded':>8} {'unchanged':>9} {'rejected':>8} "
        f"{'retired':>7}  latest run"
    ]
    for r in reports:
        lines.append(
            f"{r.source_id:<22} {r.n_records:>8,} {r.n_loaded:>8,} {r.n_unchanged:>9,} "
            f"{r.n_rejected:>8,} {r.n_retired:>7,}  {r.run_id}"
        )
    for r in reports:
        if r.years is not None and r.years[0]:
            total, with_year = r.years
            lines.append(
                f"{r.source_id}: {with_year:,} of {total:,} records ({with_year / total:.1%}) "
                f"have a reference year; {total - with_year:,} without one are kept"
            )
    for r in reports:
        if not r.reasons:
            continue
        lines.append("")
        lines.append(f"rejections of {r.source_id} ({r.file_path}):")
        for code, count, example in r.reasons:
            lines.append(f"  {count:>6,}  {code:<20} e.g. {example}")
    return "\n".join(lines)
