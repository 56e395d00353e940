"""tcdb's OPTIMADE API: the structures, their T_c labels, literature values and predictions,
and the literature references, served over HTTP to any OPTIMADE client (``tcdb serve``).

How it is built, and why:

- The filter language is parsed with the official grammar (``optimade.filterparser.LarkParser``)
  and turned into DuckDB SQL by ``filters.py`` with bound parameters only: property names come
  from the fixed table of fields (``fields.py``), never from the filter text.
- The database is read once, read-only, when the server starts (``catalogue.py``), into an
  in-memory DuckDB table per entry type and a JSON document per entry checked against the
  ``optimade`` package's pydantic models; the file is then closed, so the server never keeps a
  training or an ingest out of it.
- The HTTP side is a small Starlette application under uvicorn (``app.py``) rather than the
  ``optimade`` package's reference server, which is built around MongoDB: responses are the
  stored documents serialised with orjson, and every error, a refused filter included, is an
  OPTIMADE error object, never a traceback.
"""
