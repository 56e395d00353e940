"""The values passed between the read, parse and load steps of every ingestor."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rejection:
    """Why a record could not be loaded: a countable code and one sentence for people."""

    reason_code: str
    reason: str

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class ParsedFormula:
    """A formula resolved into element amounts, with notes on what was cleaned away."""

    amounts: dict[str, float]
    cleaned: str
    notes: tuple[str, ...] = field(default=())
