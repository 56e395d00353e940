"""A structure handed over for prediction, or the reason an input could not be one.

Why a module of its own: the readers of single files (``core.structure_files``) and of
tables of many structures (``core.structure_tables``) both make them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tcdb.core.structures import StructureRecord


@dataclass(frozen=True)
class InputStructure:
    """One structure to predict: where it came from and what it is."""

    name: str  # the file name, or file#index / the item's name for JSON items
    path: str  # the file, with #index for an item of a JSON list
    record: StructureRecord
    tc_K: Any = None  # a JSON item's "tc_K" as written (None when absent): a label, unchecked


@dataclass(frozen=True)
class InputFailure:
    """An input that cannot be predicted, and why (one sentence naming the input)."""

    path: str
    reason: str
