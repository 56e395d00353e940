"""Where the database and the source files are, read from the environment.

Relative defaults are taken from the project root (the folder holding ``pyproject.toml``) so
that ``tcdb`` finds ``data/tcdb.duckdb`` and ``../shared/data`` from any working directory;
values given in the environment or on the command line are taken as the user wrote them
(relative to the working directory).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The checkout holding this package, or the working directory for a plain install."""
    candidate = PACKAGE_DIR.parent
    if (candidate / "pyproject.toml").is_file():
        return candidate
    return Path.cwd()


class Settings(BaseSettings):
    """Paths and credentials; command-line flags override these."""

    model_config = SettingsConfigDict(env_prefix="TCDB_", extra="ignore")

    db: Path = Field(
        default_factory=lambda: project_root() / "data" / "tcdb.duckdb",
        description="DuckDB database file (TCDB_DB).",
    )
    sources: Path = Field(
        default_factory=lambda: (project_root() / ".." / "shared" / "data").resolve(),
        description="Folder of the raw source files (TCDB_SOURCES).",
    )
    curated: Path = Field(
        default_factory=lambda: project_root() / "data" / "curated",
        description="Folder of the entries added by hand, kept under git (TCDB_CURATED).",
    )
    reports: Path = Field(
        default_factory=lambda: project_root() / "reports" / "out",
        description="Folder `tcdb report` writes the site to unless --out says (TCDB_REPORTS).",
    )
    mp_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("MP_API_KEY", "TCDB_MP_API_KEY"),
        description="Materials Project API key (MP_API_KEY); never printed.",
    )
    log_level: str = Field(default="INFO", description="Logging level (TCDB_LOG_LEVEL).")
    lock_wait: float = Field(
        default=5.0,
        ge=0,
        description="Seconds to keep retrying a database another process holds (TCDB_LOCK_WAIT).",
    )
    results_lock_wait: float = Field(
        default=600.0,
        ge=0,
        description="Seconds the results of a long computation (a training, a screening, a morph "
        "run) wait for a database another process holds (TCDB_RESULTS_LOCK_WAIT).",
    )
    sql_timeout: float = Field(
        default=60.0,
        ge=0,
        allow_inf_nan=False,
        description="Seconds one `tcdb sql` statement may run before it is cancelled, so that a "
        "runaway query cannot keep writers out of the database; 0 for no limit "
        "(TCDB_SQL_TIMEOUT).",
    )

    @property
    def snapshots(self) -> Path:
        """Frozen snapshots live next to the database: ``<db folder>/snapshots``."""
        return self.db.parent / "snapshots"

    @property
    def cache(self) -> Path:
        """Computed descriptors, keyed by content: ``<db folder>/cache``."""
        return self.db.parent / "cache"

    @property
    def runs(self) -> Path:
        """Model runs live next to the database: ``<db folder>/runs``."""
        return self.db.parent / "runs"

    @property
    def evaluations(self) -> Path:
        """Parity plots of ``tcdb evaluate``, one folder per evaluation id:
        ``<db folder>/evaluations``."""
        return self.db.parent / "evaluations"

    def describe(self) -> dict[str, str]:
        """Settings as text for display, with the API key reduced to whether it is set."""
        return {
            "db": str(self.db),
            "sources": str(self.sources),
            "curated": str(self.curated),
            "reports": str(self.reports),
            "mp_api_key": "set" if self.mp_api_key else "not set",
            "log_level": self.log_level,
            "lock_wait": f"{self.lock_wait:g} s",
            "results_lock_wait": f"{self.results_lock_wait:g} s",
            "sql_timeout": f"{self.sql_timeout:g} s" if self.sql_timeout else "no limit",
        }


@lru_cache(maxsize=1)
def environment_settings() -> Settings:
    """Settings from the environment alone (cached: the environment is read once); a value
    that is not usable is one sentence naming the variable, not a validation traceback."""
    from pydantic import ValidationError

    from tcdb.core.errors import TcdbError

    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "TCDB_" + str(first["loc"][0]).upper()
        raise TcdbError(
            f"The setting {name}={first['input']!r} is not usable: {first['msg'].lower()}; "
            "nothing was run, correct or unset it."
        ) from None
