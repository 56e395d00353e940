"""``field=value`` overrides take the type of the field's default and refuse unknown fields."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tcdb.core.overrides import OverrideError, parse_overrides


@dataclass(frozen=True)
class Settings:
    epochs: int = 300
    learning_rate: float = 1e-3
    head_units: tuple[int, ...] = (512, 512)
    patience: int | None = None
    shuffle: bool = True
    name: str = "ours"


def test_values_take_the_type_of_each_default():
    values = parse_overrides(
        Settings,
        ["epochs=5", "learning_rate=2.7e-4", "head_units=256, 128", "patience=20",
         "shuffle=no", "name=authors"],
    )  # fmt: skip
    assert values == {
        "epochs": 5,
        "learning_rate": pytest.approx(2.7e-4),
        "head_units": (256, 128),
        "patience": 20,
        "shuffle": False,
        "name": "authors",
    }
    assert Settings(**values).head_units == (256, 128)


def test_none_turns_an_optional_setting_off_and_the_last_assignment_wins():
    assert parse_overrides(Settings, ["patience=5", "patience=none"]) == {"patience": None}


def test_an_unknown_field_is_refused_with_the_fields_that_exist():
    with pytest.raises(OverrideError, match=r"no field 'epoch'.*epochs, learning_rate"):
        parse_overrides(Settings, ["epoch=5"])


def test_a_value_of_the_wrong_type_or_no_value_is_refused():
    with pytest.raises(OverrideError, match="epochs=many: expected int"):
        parse_overrides(Settings, ["epochs=many"])
    with pytest.raises(OverrideError, match="expected field=value"):
        parse_overrides(Settings, ["epochs"])
    with pytest.raises(OverrideError, match="shuffle=maybe"):
        parse_overrides(Settings, ["shuffle=maybe"])
