"""``field=value`` overrides of a configuration dataclass, typed by the field's default.

Why: a benchmark or a trial run should be able to change any setting of a model's
configuration from the command line without a flag per field; the text is converted to the
type of the field's default (int, float, bool, a tuple of numbers, or None for an optional
one), and a name that is not a field is refused with the fields that exist.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from tcdb.core.errors import TcdbError

_NONE = {"none", "null"}
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


class OverrideError(TcdbError):
    """A ``field=value`` override that names no field or whose value has the wrong type."""


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def _convert(name: str, text: str, default: Any) -> Any:
    """The text as the type of the field's default."""
    value = text.strip()
    try:
        if value.lower() in _NONE:
            return None
        if isinstance(default, bool):
            if value.lower() not in _TRUE | _FALSE:
                raise ValueError("not a yes/no value")
            return value.lower() in _TRUE
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, tuple):
            return tuple(_number(part) for part in value.split(",") if part.strip())
        if default is None:  # an optional setting off by default: a number or a word
            try:
                return _number(value)
            except ValueError:
                return value
        return type(default)(value)
    except ValueError as exc:
        raise OverrideError(
            f"--set {name}={text}: expected {type(default).__name__} like {default!r} ({exc})."
        ) from None


def parse_overrides(config_class: type, assignments: Iterable[str]) -> dict[str, Any]:
    """``["epochs=5", "head_units=256,256"]`` as ``{"epochs": 5, "head_units": (256, 256)}``
    for the dataclass ``config_class``; the last assignment of a field wins."""
    defaults = {
        f.name: f.default if f.default is not dataclasses.MISSING else None
        for f in dataclasses.fields(config_class)
    }
    values: dict[str, Any] = {}
    for assignment in assignments:
        name, sep, text = assignment.partition("=")
        name = name.strip()
        if not sep or not name:
            raise OverrideError(f"--set {assignment}: expected field=value.")
        if name not in defaults:
            raise OverrideError(
                f"--set {assignment}: {config_class.__name__} has no field {name!r} "
                f"(fields: {', '.join(defaults)})."
            )
        values[name] = _convert(name, text, defaults[name])
    return values
