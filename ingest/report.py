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
            SELECT reason_code, count(*) AS n, first(record_ref || ': ' || reason ORDER BY id)
            FROM ingest_rejection WHERE ingest_run_id = ?
            GROUP BY reason_code ORDER BY n DESC, reason_code
            """,
            [run_id],
        ).fetchall()
        reports.append(
            SourceReport(
                source_id, run_id, path, str(finished), n, loaded, unchanged, rejected, retired,
                [(code, count, example) for code, count, example in reasons],
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
        if not r.reasons:
            continue
        lines.append("")
        lines.append(f"rejections of {r.source_id} ({r.file_path}):")
        for code, count, example in r.reasons:
            lines.append(f"  {count:>6,}  {code:<20} e.g. {example}")
    return "\n".join(lines)
