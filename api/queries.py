"""An entry-listing request as the specification defines its query parameters, and its page
of results from the in-memory catalogue, within the request's time limit.

Why apart from the HTTP layer: what a request may ask (paging, sorting, fields, filters) and
how it is answered are checked and tested here on plain values; ``app.py`` only reads the URL
and writes the response.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import duckdb

from tcdb.api.catalogue import Catalogue, EntryTable
from tcdb.api.errors import ApiError, bad_request, not_implemented
from tcdb.api.fields import HIDDEN, TOP_LEVEL
from tcdb.api.filters import FilterTranslator, Translated
from tcdb.api.parameters import PROVIDER_PREFIX, ApiParameters

# The specification's query parameters of entry listings (single entries take a subset).
KNOWN_PARAMETERS = frozenset({
    "filter", "response_format", "email_address", "response_fields", "sort", "include",
    "api_hint", "page_limit", "page_offset", "page_number", "page_cursor", "page_above",
    "page_below",
})  # fmt: skip
SINGLE_PARAMETERS = frozenset(
    {"response_format", "email_address", "response_fields", "include", "api_hint"}
)
_UNSUPPORTED_PAGING = ("page_cursor", "page_above", "page_below")


class Watchdog:
    """One thread that interrupts the DuckDB statements whose request ran past its deadline.

    Why not a timer per statement (``schema.sql_access.TimeLimit``): starting, cancelling and
    joining a thread for every query cost more than the query itself (1.5 ms of a 3 ms page).
    A statement is watched from just before it starts until it returns; an interrupt is sent
    only while it is still watched, under the same lock, so it never reaches the cursor's next
    statement."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._watched: dict[int, tuple[float, duckdb.DuckDBPyConnection]] = {}
        self._interrupted: set[int] = set()
        self._next = 0
        self._thread: threading.Thread | None = None

    def watch(self, cursor: duckdb.DuckDBPyConnection, at: float) -> int:
        """Watch ``cursor``'s statement until ``at`` (time.monotonic); a token for ``done``."""
        with self._changed:
            self._next += 1
            self._watched[self._next] = (at, cursor)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="tcdb-api-watchdog")
                self._thread.daemon = True
                self._thread.start()
            self._changed.notify()
            return self._next

    def done(self, token: int) -> bool:
        """Stop watching; whether the statement was interrupted."""
        with self._changed:
            self._watched.pop(token, None)
            interrupted = token in self._interrupted
            self._interrupted.discard(token)
            return interrupted

    def _run(self) -> None:
        with self._changed:
            while True:
                if not self._watched:
                    self._changed.wait()
                    continue
                now = time.monotonic()
                for token, (at, cursor) in list(self._watched.items()):
                    if at <= now:
                        cursor.interrupt()
                        self._interrupted.add(token)
                        del self._watched[token]
                if self._watched:
                    self._changed.wait(min(at for at, _ in self._watched.values()) - now)


WATCHDOG = Watchdog()


class Deadline:
    """The moment a request must be answered by (``seconds`` 0: never)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds if seconds > 0 else None

    def remaining(self) -> float | None:
        return None if self.at is None else self.at - time.monotonic()

    def expired(self) -> ApiError:
        return ApiError(
            503,
            f"The request ran longer than the query time limit of {self.seconds:g} s and was "
            "cancelled; narrow the filter or ask for a smaller page.",
        )

    def check(self) -> None:
        remaining = self.remaining()
        if remaining is not None and remaining <= 0:
            raise self.expired()


@dataclass(frozen=True)
class Listing:
    """What an entry listing asks for, checked."""

    filter: Translated
    order: str
    limit: int
    offset: int
    fields: frozenset[str] | None  # the attributes to send; None: all
    include: frozenset[str]
    warnings: tuple[str, ...] = ()


@dataclass
class Page:
    """A page of entries and what meta and links say of it."""

    ids: list[str]
    returned: int  # entries that match, over every page
    available: int  # entries of the endpoint
    more: bool


_LARGEST = 2**62  # what a page number or offset may be: far above any count of entries


def _integer(params, name: str, minimum: int) -> int | None:
    text = params.get(name)
    if text is None or text == "":
        return None
    try:
        value = int(text[:40])
    except ValueError:
        raise bad_request(f"{name} must be a whole number, not {text[:40]!r}.") from None
    if not minimum <= value <= _LARGEST:
        raise bad_request(f"{name} must be from {minimum} to {_LARGEST}, not {text[:40]}.")
    return value


def response_fields(params, table: EntryTable, warnings: list[str]) -> frozenset[str] | None:
    """The attributes ``response_fields`` asks for (None: all); the standard's fields this
    server has no value for and other providers' fields are sent as null, as the specification
    asks; an unknown name without a prefix, or with tcdb's, is refused."""
    text = params.get("response_fields")
    if text is None:
        return None
    wanted = [name.strip() for name in text.split(",") if name.strip()]
    standard = STANDARD_FIELDS[table.name]
    for name in wanted:
        if name in TOP_LEVEL or (name in table.fields and name not in HIDDEN):
            continue
        if name in standard:
            continue
        if name.startswith("_") and not name.startswith(f"_{PROVIDER_PREFIX}_"):
            warnings.append(f"response_fields: {name[:80]} is another provider's field (null).")
            continue
        raise bad_request(f"response_fields: {name[:80]} is not a field of {table.name}.")
    return frozenset(n for n in wanted if n not in TOP_LEVEL)


def _include(params) -> frozenset[str]:
    text = params.get("include")
    if text is None:
        return frozenset({"references"})  # the specification's default
    wanted = frozenset(n.strip() for n in text.split(",") if n.strip())
    unknown = wanted - {"references"}
    if unknown:
        raise bad_request(f"include: only references can be included, not {min(unknown)[:40]}.")
    return wanted


def _order(params, table: EntryTable) -> str:
    text = params.get("sort")
    if not text:
        return '"id"'
    terms = []
    for raw in text.split(","):
        name = raw.strip()
        descending = name.startswith("-")
        name = name.lstrip("-")
        found = table.fields.get(name)
        if found is None or name in HIDDEN or not found.sortable:
            raise bad_request(f"sort: {name[:80]} is not a sortable field of {table.name}.")
        terms.append(f'"{found.column}" {"DESC" if descending else "ASC"} NULLS LAST')
    return ", ".join([*terms, '"id"'])


def listing(
    params, table: EntryTable, translator: FilterTranslator, parameters: ApiParameters
) -> Listing:
    """The checked request of an entry listing (``params``: the URL's query parameters)."""
    warnings = [
        f"The query parameter {name[:40]} is not one of the specification's and was ignored."
        for name in params
        if name not in KNOWN_PARAMETERS
    ]
    if params.get("response_format", "json") != "json":
        raise bad_request("response_format: only json is served.")
    for name in _UNSUPPORTED_PAGING:
        if params.get(name):
            raise not_implemented(f"{name} is not supported; page with page_offset.")
    limit = _integer(params, "page_limit", 0)
    if limit is None:
        limit = parameters.page_limit
    if limit > parameters.max_page_limit:
        raise ApiError(
            403,
            f"page_limit {limit} is more than the maximum page size of "
            f"{parameters.max_page_limit}; ask for several pages.",
        )
    offset = _integer(params, "page_offset", 0)
    number = _integer(params, "page_number", 1)
    if offset is None:
        offset = 0 if number is None else (number - 1) * limit
    fields = response_fields(params, table, warnings)
    translated = translator.translate(params.get("filter") or "")
    return Listing(
        filter=translated,
        order=_order(params, table),
        limit=limit,
        offset=offset,
        fields=fields,
        include=_include(params),
        warnings=(*warnings, *translated.warnings),
    )


def single(params, table: EntryTable) -> tuple[frozenset[str] | None, frozenset[str], list[str]]:
    """The response fields, includes and warnings of a single-entry request."""
    warnings = [
        f"The query parameter {name[:40]} is not used by a single entry and was ignored."
        for name in params
        if name not in SINGLE_PARAMETERS
    ]
    if params.get("response_format", "json") != "json":
        raise bad_request("response_format: only json is served.")
    return response_fields(params, table, warnings), _include(params), warnings


def project(document: dict, fields: frozenset[str] | None) -> dict:
    """The document with only the attributes asked for (those without a value as null)."""
    if fields is None:
        return document
    attributes = document["attributes"]
    projected = dict(document)
    projected["attributes"] = {name: attributes.get(name) for name in fields}
    return projected


def related(catalogue: Catalogue, documents: list[dict], include: frozenset[str]) -> list[str]:
    """The ids of the references the documents link to, when asked to include them."""
    if "references" not in include:
        return []
    ids = dict.fromkeys(
        link["id"]
        for d in documents
        for link in d.get("relationships", {}).get("references", {}).get("data", [])
    )
    return [i for i in ids if i in catalogue.references.documents]


class Runner:
    """Runs listings on the catalogue's in-memory database, one cursor per server thread."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self._local = threading.local()

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = self.catalogue.conn.cursor()
        return cursor

    def rows(self, sql: str, params: list, deadline: Deadline) -> list[tuple]:
        """The rows of one statement, cancelled by DuckDB when the deadline passes."""
        deadline.check()
        cursor = self._cursor()
        token = None if deadline.at is None else WATCHDOG.watch(cursor, deadline.at)
        interrupted = False
        try:
            found = cursor.execute(sql, params).fetchall()
        except duckdb.InterruptException:
            raise deadline.expired() from None
        except (duckdb.OutOfRangeException, duckdb.ConversionException) as exc:
            # a value the column's type cannot hold
            raise bad_request(f"A value of the filter cannot be used ({str(exc)[:120]}).") from None
        finally:
            if token is not None:
                interrupted = WATCHDOG.done(token)
        if interrupted:
            raise deadline.expired()
        deadline.check()
        return found

    def page(self, table: EntryTable, request: Listing, deadline: Deadline) -> Page:
        where = request.filter.sql
        sql = (
            f'SELECT "id", count(*) OVER () FROM "{table.name}" WHERE {where} '
            f"ORDER BY {request.order} LIMIT ? OFFSET ?"
        )
        found = self.rows(sql, [*request.filter.params, request.limit, request.offset], deadline)
        if found:
            returned = found[0][1]
        else:
            count = f'SELECT count(*) FROM "{table.name}" WHERE {where}'
            returned = self.rows(count, list(request.filter.params), deadline)[0][0]
        ids = [i for i, _ in found]
        return Page(
            ids=ids,
            returned=returned,
            available=table.count,
            more=request.offset + len(ids) < returned,
        )


def standard_fields() -> dict[str, frozenset[str]]:
    """The properties the specification defines for each entry type."""
    from optimade.models import (
        ReferenceResource,
        ReferenceResourceAttributes,
        StructureResource,
        StructureResourceAttributes,
    )

    return {
        "structures": frozenset(StructureResourceAttributes.model_fields)
        | frozenset(StructureResource.model_fields),
        "references": frozenset(ReferenceResourceAttributes.model_fields)
        | frozenset(ReferenceResource.model_fields),
    }


STANDARD_FIELDS = standard_fields()
