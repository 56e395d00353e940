"""Reading stored crystal structures back, for the commands that hand them to a model.

Why here: ``ml`` reads only frozen snapshots and inputs it is given, never the live database,
so a structure a model needs from the database (a morph family's reference structure) is read
by the command line through this module and passed in.
"""

from __future__ import annotations

import duckdb


def active_structure_json(conn: duckdb.DuckDBPyConnection, structure_id: str) -> str | None:
    """The pymatgen ``Structure.as_dict()`` JSON of an active ``crystal_structure`` row, or
    None when there is no such active row."""
    row = conn.execute(
        "SELECT structure_json FROM crystal_structure WHERE id = ? AND status = 'active'",
        [structure_id],
    ).fetchone()
    return None if row is None else row[0]
