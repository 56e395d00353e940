"""SQL typed by a user (``tcdb sql``): what a read-only query may touch, which statements a
write must confirm, and how long either may run.

A read-only query is one statement of an allowed kind (a SELECT, or EXPLAIN of one), run on a
read-only connection where DuckDB itself forbids files, network, ATTACH and extensions
(``enable_external_access`` off, no extension autoloading, the configuration locked so the
query cannot switch them back). Reading local files is allowed only under folders the user
names, and never writing: COPY and EXPORT are not an allowed kind.

A write runs without asking only when it is of a kind that adds and never removes or changes
what exists (see ``overwrite``): an allow-list, so that a statement kind this module does not
know asks first.

Statements are judged by DuckDB's own parser, never by patterns over the text: the statement
kind by ``extract_statements``, and the few words that decide within a kind (``OR REPLACE``,
``DO UPDATE``, what an EXPLAIN wraps) by ``duckdb.tokenize``, the scanner the parser itself reads
with. DuckDB's Python API exposes no parsed tree for statements other than SELECT
(``json_serialize_sql`` refuses them) and its plans do not tell ``CREATE OR REPLACE`` from
``CREATE``, so the scanner's tokens are the closest view of what the parser saw: comments are
dropped, keywords are told from quoted identifiers and string constants, and case and spacing
do not matter.

Every statement runs under a time limit (the ``TCDB_SQL_TIMEOUT`` setting): DuckDB 1.5 has no
statement timeout of its own, so a timer interrupts the connection, and DuckDB cancels the
statement whole (a write rolls back).
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import duckdb

from tcdb.core.errors import TcdbError
from tcdb.schema.database import connect

log = logging.getLogger(__name__)

ST = duckdb.StatementType
# Kinds a write may run without asking, when ``_overwriting_words`` finds nothing in them: they
# add rows or objects, and adding onto something that exists fails instead of replacing it.
ADDING_KINDS = frozenset({ST.SELECT, ST.INSERT, ST.CREATE})
# Adjacent keywords that make an INSERT or CREATE replace what exists, with the name shown.
OVERWRITING_WORDS = {
    ("OR", "REPLACE"): "OR REPLACE",  # CREATE OR REPLACE …, INSERT OR REPLACE …
    ("DO", "UPDATE"): "ON CONFLICT DO UPDATE",  # INSERT … ON CONFLICT … DO UPDATE SET …
}
# Keywords that may stand between EXPLAIN and the statement it wraps.
_EXPLAIN_WORDS = frozenset({"ANALYZE", "ANALYSE", "VERBOSE"})
_WORD = re.compile(r"[A-Za-z_]+")  # a keyword token's word, read from where DuckDB found it
# DuckDB settings of a read-only query's connection, set before the database starts.
_STARTUP = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "python_enable_replacements": False,  # no scanning of the command's own Python variables
}


class SqlRefused(TcdbError):
    """A statement ``tcdb sql`` will not run as asked; nothing was executed."""


class SqlFailed(TcdbError):
    """DuckDB rejected or failed the statement."""


class SqlTimedOut(SqlFailed):
    """The statement ran past its time limit and DuckDB cancelled it."""


class SqlInterrupted(SqlFailed):
    """Ctrl-C reached DuckDB while the statement ran; DuckDB cancelled it."""

    exit_code = 130


@dataclass(frozen=True)
class Token:
    """One token of a statement as DuckDB's scanner reads it."""

    offset: int
    type: duckdb.token_type
    text: str  # a keyword's word in upper case, an operator's first character, else ""


def tokens(sql: str) -> list[Token]:
    """The tokens of ``sql`` from DuckDB's scanner, comments left out."""
    found = []
    for offset, kind in duckdb.tokenize(sql):
        if kind == duckdb.token_type.comment:
            continue
        text = ""
        if kind == duckdb.token_type.keyword:
            word = _WORD.match(sql, offset)
            text = word.group(0).upper() if word else ""
        elif kind == duckdb.token_type.operator:
            text = sql[offset]
        found.append(Token(offset, kind, text))
    return found


def _overwriting_words(statement: duckdb.Statement) -> str | None:
    """The words that make this INSERT or CREATE replace or change what exists, if any.

    Checked anywhere in the statement rather than at their grammatical place: a keyword pair
    that is not the clause (``x OR replace(…)`` in a SELECT) only costs a question."""
    words = [t.text for t in tokens(statement.query)]
    for pair in itertools.pairwise(words):
        if pair in OVERWRITING_WORDS:
            return OVERWRITING_WORDS[pair]
    return None


@dataclass(frozen=True)
class Checked:
    """The one statement to run, as DuckDB parsed it."""

    statement: duckdb.Statement
    kind: str  # e.g. SELECT, DELETE, INSTALL: the kind as the user wrote it
    overwrite: str | None = None  # why a write must ask first, e.g. "DELETE"; None: it adds only

    @property
    def destructive(self) -> bool:
        """Whether it can remove, replace or change data that exists."""
        return self.overwrite is not None


def _failure(exc: duckdb.Error) -> SqlFailed:
    return SqlFailed(f"SQL failed: {str(exc).splitlines()[0]}")


def one_statement(conn: duckdb.DuckDBPyConnection, query: str) -> Checked:
    """The single statement in ``query``; several (or none) are refused before any runs."""
    try:
        statements = conn.extract_statements(query)
    except duckdb.Error as exc:
        raise _failure(exc) from None
    if len(statements) != 1:
        raise SqlRefused(
            f"tcdb sql runs exactly one statement and this text holds {len(statements)}; "
            "nothing was run, give them one at a time."
        )
    statement = statements[0]
    return Checked(statement, _kind_name(statement), overwrite(conn, statement))


def overwrite(conn: duckdb.DuckDBPyConnection, statement: duckdb.Statement) -> str | None:
    """What makes ``statement`` able to remove, replace or change existing data (shown when a
    write asks), or None when it can only add: a SELECT, a plain INSERT or one ``ON CONFLICT
    DO NOTHING``/``INSERT OR IGNORE``, a CREATE without ``OR REPLACE``, or EXPLAIN of one of
    those. Every other kind asks, whether known to be harmful or not."""
    if statement.type == ST.EXPLAIN:
        inner = explained(conn, statement)
        if inner is None:
            return "EXPLAIN"
        wrapped = overwrite(conn, inner)
        return None if wrapped is None else f"EXPLAIN {wrapped}"
    kind = _kind_name(statement)
    if statement.type not in ADDING_KINDS:
        return kind
    words = _overwriting_words(statement)
    if words is None:
        return None
    return f"{kind} … {words}" if words.startswith("ON ") else f"{kind} {words}"


def explained(conn: duckdb.DuckDBPyConnection, statement: duckdb.Statement):
    """The one statement an EXPLAIN wraps (EXPLAIN ANALYZE runs it), or None when what follows
    EXPLAIN, its keywords and its option list is not exactly one statement."""
    sql, found = statement.query, tokens(statement.query)
    i = 1  # found[0] is EXPLAIN
    while i < len(found) and found[i].text in _EXPLAIN_WORDS:
        i += 1
    candidates = [i]
    if i < len(found) and found[i].text == "(":  # an option list, or a SELECT in parentheses
        candidates.append(_after_parentheses(found, i))
    for start in candidates:
        if start < len(found):
            inner = _parsed(conn, sql[found[start].offset :])
            if inner is not None:
                return inner
    return None


def _after_parentheses(found: list[Token], opening: int) -> int:
    """The index of the token after the parenthesis that closes ``found[opening]``."""
    depth = 0
    for i in range(opening, len(found)):
        depth += {"(": 1, ")": -1}.get(found[i].text, 0)
        if depth == 0:
            return i + 1
    return len(found)


def _parsed(conn: duckdb.DuckDBPyConnection, sql: str) -> duckdb.Statement | None:
    """``sql`` as one statement, or None when DuckDB reads it otherwise."""
    try:
        statements = conn.extract_statements(sql)
    except duckdb.Error:
        return None
    return statements[0] if len(statements) == 1 else None


def _kind_name(statement: duckdb.Statement) -> str:
    """The statement's kind as the user wrote it (DuckDB files INSTALL under LOAD)."""
    found = tokens(statement.query)
    first = found[0].text if found else ""
    if statement.type == ST.LOAD and first in ("INSTALL", "FORCE"):
        return "INSTALL"
    name = statement.type.name
    return name if name.isidentifier() else first or "unknown"


def require_read_only(conn: duckdb.DuckDBPyConnection, checked: Checked) -> None:
    """Refuse anything but a SELECT (or EXPLAIN of one) on a read-only query."""
    statement = checked.statement
    if statement.type == ST.EXPLAIN:
        statement = explained(conn, statement)
        if statement is None:
            raise SqlRefused("Only EXPLAIN of one SELECT can run read-only; nothing was run.")
    if statement.type != ST.SELECT:
        raise SqlRefused(
            f"{_kind_name(statement)} statements are not allowed read-only (only SELECT and "
            "EXPLAIN); nothing was run, add --write to change the database."
        )


def _sql_list(folders: list[str]) -> str:
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in folders) + "]"


def readable_folder(folder: Path) -> str:
    """A folder given to --read-files, resolved, as the prefix DuckDB matches (trailing /)."""
    resolved = Path(folder).expanduser().resolve()
    if not resolved.is_dir():
        raise SqlRefused(f"--read-files {folder}: there is no folder there.")
    return str(resolved).rstrip("/") + "/"


def open_read_only(path: Path, read_files: list[Path] | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection that cannot reach files (except under ``read_files``, for
    reading), the network, other databases or extensions, and cannot be reconfigured."""
    folders = [readable_folder(f) for f in read_files or []]
    conn = connect(path, read_only=True, config=dict(_STARTUP))
    try:
        if folders:
            temp = conn.execute("SELECT current_setting('temp_directory')").fetchone()[0]
            keep = [str(temp).rstrip("/") + "/"] if temp else []
            conn.execute(f"SET allowed_directories = {_sql_list(folders + keep)}")
        conn.execute("SET enable_external_access = false")
        conn.execute("SET lock_configuration = true")
    except BaseException:
        conn.close()
        raise
    return conn


class TimeLimit:
    """Interrupts a connection's running statement ``seconds`` after entering (0: never).

    DuckDB 1.5 has no statement timeout setting; ``interrupt()`` from another thread makes
    DuckDB cancel the statement at its next check, whole."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, seconds: float) -> None:
        self.conn = conn
        self.seconds = seconds
        self.expired = threading.Event()
        self._timer: threading.Timer | None = None

    def _expire(self) -> None:
        self.expired.set()
        self.conn.interrupt()

    def __enter__(self) -> TimeLimit:
        if self.seconds > 0:
            self._timer = threading.Timer(self.seconds, self._expire)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer.join()  # an interrupt already under way lands before the caller goes on


def _interrupted(exc: BaseException) -> bool:
    """Whether DuckDB stopped the statement for Ctrl-C (its Python client cancels the query and
    raises ``RuntimeError('Query interrupted')`` from the KeyboardInterrupt)."""
    return isinstance(exc, duckdb.InterruptException) or (
        isinstance(exc, RuntimeError) and isinstance(exc.__cause__, KeyboardInterrupt)
    )


def run(conn: duckdb.DuckDBPyConnection, checked: Checked, timeout: float):
    """Execute the checked statement within ``timeout`` seconds (0: no limit): a DataFrame when
    it returns rows, else None. A statement past its limit or stopped by Ctrl-C is cancelled
    by DuckDB as a whole, so nothing of it is kept."""
    bound = f"{timeout:g} s" if timeout else "none"
    log.debug("running the %s statement (time limit: %s)", checked.kind, bound)
    limit = TimeLimit(conn, timeout)
    try:
        with limit:
            result = conn.execute(checked.statement)
            return result.df() if result.description else None
    except KeyboardInterrupt:  # outside DuckDB's execution: stop what it may still stream
        conn.interrupt()
        raise
    except (duckdb.Error, RuntimeError) as exc:
        if limit.expired.is_set() and isinstance(exc, duckdb.InterruptException):
            raise SqlTimedOut(
                f"The {checked.kind} statement ran longer than {timeout:g} s (TCDB_SQL_TIMEOUT "
                "or --timeout) and was cancelled, so nothing was changed; give a larger "
                "--timeout, or 0 for no limit."
            ) from None
        if _interrupted(exc):
            # DuckDB's client raises on Ctrl-C but leaves the statement running in its threads,
            # and closing the connection would wait for it to end: cancel it for real.
            conn.interrupt()
            raise SqlInterrupted(
                f"Interrupted: the {checked.kind} statement was cancelled and nothing was changed."
            ) from None
        if not isinstance(exc, duckdb.Error):
            raise
        raise _run_failure(exc) from None


def _run_failure(exc: duckdb.Error) -> SqlFailed:
    """DuckDB's first line, with what to do when the cause is the read-only mode."""
    message = str(exc).splitlines()[0]
    if "read-only" in message.lower():
        message += " (add --write to change the database)"
    elif "disabled by configuration" in message.lower():
        message += " (a read-only query reads files only under --read-files DIR)"
    return SqlFailed(f"SQL failed: {message}")
