"""Timestamps as every table stores them: UTC, without a zone (kept apart from the models so
that light commands need not import SQLModel)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now in UTC without a zone, the form every timestamp column stores."""
    return datetime.now(UTC).replace(tzinfo=None)
