"""What Alembic needs to work on DuckDB; imported by the migration environment and by checks."""

from __future__ import annotations

from alembic.ddl.impl import DefaultImpl
from sqlalchemy import text

from tcdb.schema.views import VIEW_NAMES


class DuckDBImpl(DefaultImpl):
    """Alembic has no DuckDB dialect of its own; the default (PostgreSQL-like) DDL fits.
    Defining the class registers it for the ``duckdb`` dialect."""

    __dialect__ = "duckdb"
    transactional_ddl = False


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Leave out what autogenerate cannot compare: indexes (duckdb-engine cannot reflect them,
    so they would be re-created every time) and the views, which come from schema/views/*.sql
    through their own migrations rather than from the models."""
    if type_ == "index":
        return False
    return not (type_ == "table" and reflected and name in VIEW_NAMES)


def compare_type(context, inspected_column, metadata_column, inspected_type, metadata_type):
    """Compare the column's type as DuckDB stores it with the type the model declares, both
    spelled by DuckDB itself. Reflection through duckdb-engine reads DOUBLE as FLOAT and TEXT as
    VARCHAR, so comparing reflected SQLAlchemy types would report drift that is not there."""
    connection = context.connection
    actual = connection.execute(
        text(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = :table AND column_name = :column"
        ),
        {"table": inspected_column.table.name, "column": inspected_column.name},
    ).scalar()
    declared = metadata_type.compile(dialect=context.dialect)
    wanted = connection.execute(text(f"SELECT typeof(CAST(NULL AS {declared}))")).scalar()
    return actual != wanted


MIGRATION_OPTIONS = {"compare_type": compare_type, "include_object": include_object}
