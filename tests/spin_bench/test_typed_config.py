"""Strict YAML -> frozen dataclass loading: every error is a ConfigError naming the source and dotted key."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
import yaml

from spin_bench.core.errors import ConfigError, UserError
from spin_bench.core.typed_config import (
    apply_overrides,
    dump_yaml,
    from_mapping,
    load_yaml_mapping,
    to_plain,
)

SOURCE = "test.yaml"


class Color(Enum):
    RED = "red"
    GREEN = "green"


@dataclass(frozen=True, kw_only=True)
class Item:
    weight: float
    label: str = "x"

    def __post_init__(self) -> None:
        if self.weight < 0:
            raise ValueError(f"weight must be >= 0, got {self.weight}")


@dataclass(frozen=True, kw_only=True)
class Inner:
    count: int = 1
    flag: bool = False
    ratio: float = 0.5
    maybe: int | None = None


@dataclass(frozen=True, kw_only=True)
class Outer:
    name: str
    inner: Inner = field(default_factory=Inner)
    items: tuple[Item, ...] = ()
    tags: dict[str, int] = field(default_factory=dict)
    color: Color = Color.RED
    where: Path | None = None
    extra: Any = None


@dataclass(frozen=True, kw_only=True)
class Unsupported:
    numbers: set[int]


def _err(cls, raw, key: str = "") -> str:
    with pytest.raises(ConfigError) as info:
        from_mapping(cls, raw, SOURCE, key)
    message = str(info.value)
    assert message.startswith(SOURCE), message
    assert "\n" not in message
    return message


# ------------------------------------------------------------------ good input


def test_full_mapping_is_built_and_coerced():
    raw = {
        "name": "run",
        "inner": {"count": 3, "flag": True, "ratio": 2, "maybe": 7},
        "items": [{"weight": 1.5}, {"weight": 0, "label": "zero"}],
        "tags": {"a": 1, 2: 3},
        "color": "green",
        "where": "some/dir",
        "extra": [1, {"free": "form"}],
    }
    value = from_mapping(Outer, raw, SOURCE)
    assert value == Outer(
        name="run",
        inner=Inner(count=3, flag=True, ratio=2.0, maybe=7),
        items=(Item(weight=1.5), Item(weight=0.0, label="zero")),
        tags={"a": 1, "2": 3},
        color=Color.GREEN,
        where=Path("some/dir"),
        extra=[1, {"free": "form"}],
    )
    assert isinstance(value.inner.ratio, float)
    assert isinstance(value.items, tuple)
    assert isinstance(value.items[1].weight, float)
    assert value.color is Color.GREEN


def test_defaults_fill_missing_keys():
    value = from_mapping(Outer, {"name": "n"}, SOURCE)
    assert value == Outer(name="n")
    assert value.inner == Inner()


def test_optional_accepts_null():
    value = from_mapping(Outer, {"name": "n", "inner": {"maybe": None}, "where": None}, SOURCE)
    assert value.inner.maybe is None
    assert value.where is None


@pytest.mark.parametrize("text", ["5e-7", "1E3", "-25e-4", "1e+2"])
def test_yaml_exponent_floats_without_a_dot_are_accepted(text):
    raw = yaml.safe_load(f"name: n\ninner:\n  ratio: {text}\n")
    assert isinstance(raw["inner"]["ratio"], str)  # YAML 1.1 reads these as strings
    value = from_mapping(Outer, raw, SOURCE)
    assert value.inner.ratio == float(text)


# ------------------------------------------------------------------ unknown keys


def test_unknown_top_level_key():
    message = _err(Outer, {"name": "n", "nmae": "typo"})
    assert "unknown key(s): nmae" in message
    assert "allowed:" in message and "name" in message


def test_unknown_nested_key_names_the_dotted_path():
    message = _err(Outer, {"name": "n", "inner": {"cout": 3}})
    assert "inner.cout" in message


def test_unknown_key_in_a_list_item_names_the_index():
    message = _err(Outer, {"name": "n", "items": [{"weight": 1}, {"weight": 2, "lable": "y"}]})
    assert "items.1.lable" in message


def test_several_unknown_keys_are_all_named():
    message = _err(Outer, {"name": "n", "zz": 1, "aa": 2})
    assert "aa, zz" in message


def test_unknown_key_with_a_key_prefix():
    message = _err(Inner, {"bogus": 1}, key="outer.inner")
    assert "outer.inner.bogus" in message


# ------------------------------------------------------------------ wrong types


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"name": 3}, "name"),
        ({"name": "n", "inner": {"count": "three"}}, "inner.count"),
        ({"name": "n", "inner": {"count": 2.5}}, "inner.count"),
        ({"name": "n", "inner": {"count": True}}, "inner.count"),  # bool is not an int here
        ({"name": "n", "inner": {"flag": 1}}, "inner.flag"),
        ({"name": "n", "inner": {"flag": "yes please"}}, "inner.flag"),
        ({"name": "n", "inner": {"ratio": "abc"}}, "inner.ratio"),
        ({"name": "n", "inner": {"ratio": False}}, "inner.ratio"),
        ({"name": "n", "inner": {"maybe": "x"}}, "inner.maybe"),
        ({"name": "n", "items": "not a list"}, "items"),
        ({"name": "n", "items": [{"weight": "heavy"}]}, "items.0.weight"),
        ({"name": "n", "tags": ["a"]}, "tags"),
        ({"name": "n", "tags": {"a": "one"}}, "tags.a"),
        ({"name": "n", "where": 5}, "where"),
        ({"name": "n", "inner": 3}, "inner"),
    ],
)
def test_wrong_type_names_the_key(raw, key):
    message = _err(Outer, raw)
    assert f"{SOURCE}: {key}:" in message


def test_non_mapping_root():
    message = _err(Outer, ["name", "n"])
    assert "expected a mapping" in message and "list" in message


def test_enum_rejects_unknown_value_listing_the_allowed_ones():
    message = _err(Outer, {"name": "n", "color": "blue"})
    assert "color" in message and "'blue'" in message
    assert "red" in message and "green" in message


def test_failed_post_init_check_names_the_key():
    message = _err(Outer, {"name": "n", "items": [{"weight": 1}, {"weight": -1}]})
    assert "items.1" in message and "weight must be >= 0" in message


def test_missing_required_field_is_a_config_error():
    message = _err(Outer, {"inner": {}})
    assert "name" in message


def test_unsupported_hint_is_a_config_error():
    message = _err(Unsupported, {"numbers": [1, 2]})
    assert "numbers" in message and "unsupported" in message


def test_config_error_is_a_user_error():
    assert issubclass(ConfigError, UserError)


# ------------------------------------------------------------------ overrides


BASE = {"a": {"b": 1, "list": [{"x": 1}, {"x": 2}]}, "top": "v"}


def test_overrides_set_nested_values_parsed_as_yaml():
    result = apply_overrides(BASE, ["a.b=2.5", "a.list.1.x=hello", "top=[1, 2]", "new.key=true", "a.c="])
    assert result == {"a": {"b": 2.5, "c": "", "list": [{"x": 1}, {"x": "hello"}]}, "top": [1, 2],
                      "new": {"key": True}}
    assert BASE == {"a": {"b": 1, "list": [{"x": 1}, {"x": 2}]}, "top": "v"}  # a copy; the input is untouched


def test_override_replaces_a_whole_list():
    result = apply_overrides(BASE, ["a.list=[{x: 9}]"])
    assert result["a"]["list"] == [{"x": 9}]


def test_override_value_may_contain_equals():
    assert apply_overrides({}, ["k=a=b"]) == {"k": "a=b"}


def test_overrides_apply_in_order():
    assert apply_overrides(BASE, ["top=1", "top=2"])["top"] == 2


@pytest.mark.parametrize("override", ["a.b", "=3", "", "novalue"])
def test_override_without_key_value_form(override):
    with pytest.raises(ConfigError) as info:
        apply_overrides(BASE, [override], source="cli")
    assert str(info.value).startswith("cli: ")
    assert "key.sub=value" in str(info.value)


@pytest.mark.parametrize(
    ("override", "path"),
    [("a.list.2.x=1", "a.list.2"), ("a.list.5=1", "a.list.5"), ("a.list.-1.x=1", "a.list.-1"),
     ("a.list.first.x=1", "a.list.first")],
)
def test_override_index_out_of_range_or_not_an_index(override, path):
    with pytest.raises(ConfigError) as info:
        apply_overrides(BASE, [override])
    message = str(info.value)
    assert f"{path}:" in message
    assert "list of 2" in message


def test_override_cannot_descend_into_a_scalar():
    with pytest.raises(ConfigError, match=r"top\.x"):
        apply_overrides(BASE, ["top.x=1"])
    with pytest.raises(ConfigError, match=r"top\.x: cannot descend into a str"):
        apply_overrides(BASE, ["top.x.y=1"])


def test_override_with_invalid_yaml_value_is_a_config_error():
    # A value that is not YAML (an unclosed flow list) must fail as a ConfigError naming the key.
    with pytest.raises(ConfigError, match="top"):
        apply_overrides(BASE, ["top=[1, 2"])


# ------------------------------------------------------------------ YAML files


def test_load_yaml_mapping_reads_a_mapping(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("name: n\ninner: {count: 2}\n", encoding="utf-8")
    assert load_yaml_mapping(path) == {"name": "n", "inner": {"count": 2}}


def test_missing_yaml_file(tmp_path):
    path = tmp_path / "missing.yaml"
    with pytest.raises(ConfigError) as info:
        load_yaml_mapping(path)
    assert str(info.value).startswith(str(path))
    assert "no such file" in str(info.value)


def test_invalid_yaml_file_names_path_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: n\ninner: [1, 2\nother: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_yaml_mapping(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert "invalid YAML" in message and "line " in message
    assert "\n" not in message


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "", "42\n"])
def test_non_mapping_yaml_file(tmp_path, text):
    path = tmp_path / "notmap.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_yaml_mapping(path)
    assert str(info.value) == f"{path}: expected a mapping at the top level"


def test_non_utf8_yaml_file(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        load_yaml_mapping(path)
    assert str(info.value).startswith(str(path))
    assert "UTF-8" in str(info.value)


# ------------------------------------------------------------------ dumping


def test_to_plain_and_dump_yaml_round_trip():
    value = Outer(name="n", inner=Inner(count=2, maybe=None), items=(Item(weight=0.25, label="q"),),
                  tags={"k": 4}, color=Color.GREEN, where=Path("a/b"))
    plain = to_plain(value)
    assert plain["color"] == "green"
    assert plain["where"] == "a/b"
    assert plain["items"] == [{"weight": 0.25, "label": "q"}]
    assert [f.name for f in dataclasses.fields(Outer)] == list(plain)  # field order kept
    text = dump_yaml(value)
    assert from_mapping(Outer, yaml.safe_load(text), SOURCE) == value


def test_dumped_tiny_floats_reload_as_floats():
    # yaml.safe_dump writes 5e-07 as "5.0e-07", which YAML 1.1 reads back as a float.
    value = Outer(name="n", inner=Inner(ratio=5e-7))
    raw = yaml.safe_load(dump_yaml(value))
    assert from_mapping(Outer, raw, SOURCE).inner.ratio == 5e-7
