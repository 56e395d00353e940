"""The OPTIMADE API's settings, with their defaults.

Why here: only the API (and ``tcdb serve``, which starts it) uses them. Every limit a request
can hit is one of these, and each is answered with an OPTIMADE error object naming it.
"""

from __future__ import annotations

from dataclasses import dataclass

HOST = "127.0.0.1"  # only this machine; --host changes it
PORT = 5080  # --port changes it, 0 takes any free port

PROVIDER_PREFIX = "tcdb"  # provider-specific fields are _tcdb_<name>
API_MAJOR = 1  # the versioned base URL is /v1
SCHEMA_URL = "https://schemas.optimade.org/openapi/v1.2/optimade.json"

# The SuperCon label tables in the order a structure's label is taken from them: the order the
# default snapshots give them precedence in (curate's SnapshotParameters.label_tables), kept
# here because the API reads the database, not curate.
LABEL_TABLES = ("nims_supercon", "stanev_supercon")


@dataclass(frozen=True)
class ApiParameters:
    """How much one request may ask for and take."""

    page_limit: int = 20  # entries per page when page_limit is not given
    max_page_limit: int = 500  # a larger page_limit is refused with 403
    query_timeout_s: float = 5.0  # a request past it is cancelled and answered 503; 0: no limit
    max_filter_chars: int = 10_000  # a longer filter is refused with 400 before it is parsed
    max_filter_depth: int = 32  # parentheses nested deeper are refused with 400 before parsing
    max_values: int = 1_000  # values in one HAS ALL/ANY/ONLY list
