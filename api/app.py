"""The HTTP side: a Starlette application answering OPTIMADE v1 from the catalogue.

Why Starlette under uvicorn and not the ``optimade`` package's server: that server is built
around MongoDB (or Elasticsearch) collections, while tcdb's entries are rows of DuckDB. Here
one endpoint function reads the path itself (``/v1/...``, the same paths unversioned, and
``/versions``), so that every answer, a wrong path or version included, is an OPTIMADE
document: data with meta and links, or an error object. Handlers are plain functions, run by
Starlette in its thread pool, each thread with its own DuckDB cursor; responses are the stored
documents serialised with orjson. Nothing a request carries is ever written anywhere.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from importlib import metadata
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tcdb.api import queries
from tcdb.api.catalogue import Catalogue, EntryTable
from tcdb.api.errors import ApiError
from tcdb.api.fields import HIDDEN
from tcdb.api.filters import FilterTranslator, parser
from tcdb.api.parameters import API_MAJOR, PROVIDER_PREFIX, SCHEMA_URL, ApiParameters

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/vnd.api+json"
ENTRY_TYPES = ("structures", "references")
_VERSIONED = re.compile(r"^/v(\d+)((?:\.\d+){0,2})(/.*)?$")

PROVIDER = {
    "name": "tcdb",
    "description": "Superconductor structures with SuperCon and literature T_c labels and the "
    "predictions of tcdb's models.",
    "prefix": PROVIDER_PREFIX,
}
DESCRIPTIONS = {
    "structures": "Every crystal structure tcdb holds (the Materials Project mirror, the "
    "literature CIFs and the reference CIFs) with its SuperCon T_c label, its literature "
    "T_c, pressure and μ*, the latest prediction of each model and the snapshots it is in.",
    "references": "The literature references (DOIs) of tcdb's hydride entries.",
}


def _api_version() -> str:
    from optimade import __api_version__

    return __api_version__


def _implementation() -> dict:
    try:
        version = metadata.version("tcdb")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"name": "tcdb", "version": version}


def _json(content: dict, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type=MEDIA_TYPE)


class Api:
    """The endpoints over one catalogue, with the request limits of ``parameters``."""

    def __init__(self, catalogue: Catalogue, parameters: ApiParameters) -> None:
        self.catalogue = catalogue
        self.parameters = parameters
        self.runner = queries.Runner(catalogue)
        self.api_version = _api_version()
        self.implementation = _implementation()
        parser()  # the LALR tables, built once here rather than on the first filtered request
        self.translators = {
            name: FilterTranslator(
                name,
                catalogue.table(name).fields,
                queries.STANDARD_FIELDS[name],
                parameters,
            )
            for name in ENTRY_TYPES
        }

    # --------------------------------------------------------------------------- documents

    def meta(self, request: Request, **extra: Any) -> dict:
        representation = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        meta = {
            "query": {"representation": representation},
            "api_version": self.api_version,
            "more_data_available": False,
            "time_stamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "provider": PROVIDER,
            "implementation": self.implementation,
            "schema": SCHEMA_URL,
        }
        warnings = extra.pop("warnings", None)
        meta.update(extra)
        if warnings:
            meta["warnings"] = [{"type": "warning", "detail": w} for w in dict.fromkeys(warnings)]
        return meta

    def error(self, request: Request, error: ApiError) -> Response:
        document = {
            "errors": [{"status": str(error.status), "title": error.title, "detail": error.detail}],
            "meta": self.meta(request),
        }
        return _json(document, error.status)

    def base_url(self, request: Request) -> str:
        return str(request.base_url).rstrip("/")

    # --------------------------------------------------------------------------- endpoints

    def versions(self) -> Response:
        return Response(
            f"version\n{API_MAJOR}\n", media_type="text/csv; header=present; charset=utf-8"
        )

    def info(self, request: Request) -> Response:
        attributes = {
            "api_version": self.api_version,
            "available_api_versions": [
                {"url": f"{self.base_url(request)}/v{API_MAJOR}/", "version": self.api_version}
            ],
            "formats": ["json"],
            "available_endpoints": ["info", "links", *ENTRY_TYPES],
            "entry_types_by_format": {"json": list(ENTRY_TYPES)},
            "is_index": False,
        }
        data = {"id": "/", "type": "info", "attributes": attributes}
        return _json({"data": data, "meta": self.meta(request, data_returned=1)})

    def entry_info(self, request: Request, name: str) -> Response:
        table = self.catalogue.table(name)
        properties = {}
        for f in table.fields.values():
            if f.name in HIDDEN:
                continue
            described = {"description": f.description, "type": f.type, "sortable": f.sortable}
            if f.unit:
                described["unit"] = f.unit
            properties[f.name] = described
        data = {
            "id": name,
            "type": "info",
            "formats": ["json"],
            "description": DESCRIPTIONS[name],
            "properties": properties,
            "output_fields_by_format": {"json": list(properties)},
        }
        return _json({"data": data, "meta": self.meta(request, data_returned=1)})

    def links(self, request: Request) -> Response:
        return _json({"data": [], "meta": self.meta(request, data_returned=0, data_available=0)})

    def entries(self, request: Request, table: EntryTable) -> Response:
        deadline = queries.Deadline(self.parameters.query_timeout_s)
        asked = queries.listing(
            request.query_params, table, self.translators[table.name], self.parameters
        )
        page = self.runner.page(table, asked, deadline)
        links: dict[str, Any] = {"next": None}
        if page.more:
            kept = [
                (k, v)
                for k, v in request.query_params.multi_items()
                if k not in ("page_offset", "page_number")
            ]
            kept.append(("page_offset", str(asked.offset + len(page.ids))))
            links["next"] = f"{self.base_url(request)}{request.url.path}?{urlencode(kept)}"
        meta = self.meta(
            request,
            more_data_available=page.more,
            data_returned=page.returned,
            data_available=page.available,
            warnings=list(asked.warnings),
        )
        if page.ids:
            meta["last_id"] = page.ids[-1]
        documents = [table.documents[i] for i in page.ids]
        included = queries.related(self.catalogue, documents, asked.include)
        parts = [b'{"data":', self.encode(table, page.ids, asked.fields)]
        parts += [b',"meta":', orjson.dumps(meta), b',"links":', orjson.dumps(links)]
        if included:
            parts += [b',"included":', self.encode(self.catalogue.references, included, None)]
        parts.append(b"}")
        deadline.check()
        return Response(b"".join(parts), media_type=MEDIA_TYPE)

    @staticmethod
    def encode(table: EntryTable, ids: list[str], fields: frozenset[str] | None) -> bytes:
        """A JSON list of the entries: their stored JSON, or their projection on ``fields``."""
        if fields is None:
            return b"[" + b",".join(table.encoded[i] for i in ids) + b"]"
        return orjson.dumps([queries.project(table.documents[i], fields) for i in ids])

    def entry(self, request: Request, table: EntryTable, entry_id: str) -> Response:
        fields, include, warnings = queries.single(request.query_params, table)
        found = table.documents.get(entry_id)
        if found is None:
            raise ApiError(404, f"There is no {table.name} entry with id {entry_id[:120]!r}.")
        document = queries.project(found, fields)
        content = {
            "data": document,
            "meta": self.meta(
                request,
                data_returned=1,
                data_available=table.count,
                warnings=warnings,
            ),
            "links": {"next": None},
        }
        included = queries.related(self.catalogue, [document], include)
        if included:
            content["included"] = [self.catalogue.references.documents[i] for i in included]
        return _json(content)

    # --------------------------------------------------------------------------- dispatch

    def route(self, request: Request) -> Response:
        path = request.url.path
        if path.rstrip("/") == "/versions":
            return self.versions()
        versioned = _VERSIONED.match(path)
        if versioned:
            major, rest = versioned.group(1), versioned.group(2)
            if major != str(API_MAJOR) or rest:
                raise ApiError(
                    553,
                    f"Version {path.split('/')[1][1:40]} is not served; this server serves "
                    f"/v{API_MAJOR} (OPTIMADE {self.api_version}).",
                )
            path = versioned.group(3) or "/"
            if path.rstrip("/") == "/versions":
                raise ApiError(404, "/versions is served at the unversioned base URL.")
        parts = [p for p in path.split("/") if p]
        if parts == ["info"]:
            return self.info(request)
        if len(parts) == 2 and parts[0] == "info" and parts[1] in ENTRY_TYPES:
            return self.entry_info(request, parts[1])
        if parts == ["links"]:
            return self.links(request)
        if parts and parts[0] in ENTRY_TYPES:
            table = self.catalogue.table(parts[0])
            if len(parts) == 1:
                return self.entries(request, table)
            return self.entry(request, table, "/".join(parts[1:]))
        raise ApiError(
            404,
            f"Nothing is served at {path[:120]}; the endpoints are /v{API_MAJOR}/info, "
            f"/v{API_MAJOR}/info/<type>, /v{API_MAJOR}/links and /v{API_MAJOR}/<type>[/<id>] "
            f"for {' and '.join(ENTRY_TYPES)}.",
        )

    def handle(self, request: Request) -> Response:
        """Every request: its answer, or an OPTIMADE error object; never a traceback."""
        try:
            if request.method not in ("GET", "HEAD"):
                raise ApiError(405, "Only GET is served: the API reads and never writes.")
            return self.route(request)
        except ApiError as error:
            log.debug("%s refused (%d): %s", request.url.path, error.status, error.detail)
            return self.error(request, error)
        except Exception:
            log.exception("answering %s failed", request.url.path)
            return self.error(request, ApiError(500, "The server failed to answer; see its log."))


def create_app(catalogue: Catalogue, parameters: ApiParameters | None = None) -> Starlette:
    """The ASGI application serving ``catalogue``."""
    api = Api(catalogue, parameters or ApiParameters())

    def endpoint(request: Request) -> Response:
        return api.handle(request)

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    app = Starlette(routes=[Route("/{path:path}", endpoint, methods=methods)])
    app.state.api = api
    return app
