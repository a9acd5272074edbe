"""The typed recipe: built-in recipes load, bad keys/types/values fail naming file and key, dumps round-trip."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from spin_bench.core.enums import Backend, LossKind, Precision
from spin_bench.core.errors import ConfigError
from spin_bench.core.typed_config import dump_yaml
from spin_bench.inference.config import PromptFormat
from spin_bench.recipe import Recipe, builtin_recipes, load_recipe, resolve_recipe_path
from tests.conftest import TINY_OVERRIDES

BUILTIN = ("embedded", "paper-zephyr-7b")


def _embedded_raw() -> dict:
    return yaml.safe_load(builtin_recipes()["embedded"].read_text(encoding="utf-8"))


def _write(tmp_path: Path, raw, name: str = "recipe.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def _config_error(name_or_path, overrides=()) -> str:
    with pytest.raises(ConfigError) as info:
        load_recipe(str(name_or_path), list(overrides))
    message = str(info.value)
    assert "\n" not in message, message
    return message


# ------------------------------------------------------------------ built-in recipes


def test_builtin_recipes_are_listed():
    recipes = builtin_recipes()
    assert set(BUILTIN) <= set(recipes)
    for name, path in recipes.items():
        assert path.is_file() and path.stem == name


@pytest.mark.parametrize("name", BUILTIN)
def test_every_builtin_recipe_loads_by_name_and_by_path(name):
    recipe = load_recipe(name)
    assert isinstance(recipe, Recipe)
    assert recipe.name == name
    assert load_recipe(str(builtin_recipes()[name])) == recipe


def test_embedded_recipe_values():
    recipe = load_recipe("embedded")
    assert recipe.train.model.path == "embedded"
    assert recipe.train.sft_data.source == "embedded:sft"
    assert recipe.train.spin.loss is LossKind.LOGISTIC
    assert [it.learning_rate for it in recipe.train.spin.iterations] == [2.5e-5, 2.5e-5, 5.0e-6]
    assert all(it.beta == 0.1 and it.epochs is None for it in recipe.train.spin.iterations)
    assert recipe.train.generation.backend is Backend.HF
    assert recipe.train.training.precision is Precision.AUTO
    assert recipe.train.training.schedule.epochs == 2.0 and isinstance(recipe.train.training.schedule.epochs, float)
    assert recipe.train.baselines.dpo.enabled and recipe.train.baselines.dpo.data.source == "embedded:preferences"


def test_paper_recipe_follows_the_paper():
    recipe = load_recipe("paper-zephyr-7b")
    assert recipe.train.model.path == "alignment-handbook/zephyr-7b-sft-full"
    assert recipe.train.model.revision == "ac6e600eefcce74f5e8bae1035d4f66019e93190"
    assert [it.learning_rate for it in recipe.train.spin.iterations] == [5e-7, 5e-7, 1e-7, 1e-7]
    assert [it.beta for it in recipe.train.spin.iterations] == [0.1, 0.1, 0.1, 5.0]
    assert recipe.train.spin_data.num_samples == 50000
    assert recipe.train.generation.prompt_format is PromptFormat.INSTRUCTION
    assert recipe.train.training.precision is Precision.BF16
    assert recipe.train.baselines.dpo.spin_dpo


def test_tiny_overrides_load(tiny_recipe):
    assert tiny_recipe.embedded.hidden_size == 64
    assert len(tiny_recipe.spin.iterations) == 2
    assert tiny_recipe.spin.iterations[0].learning_rate == 1e-4


def test_recipe_is_frozen():
    recipe = load_recipe("embedded")
    with pytest.raises(dataclasses.FrozenInstanceError):
        recipe.train.seed = 1  # type: ignore[misc]


def test_overrides_apply():
    recipe = load_recipe("embedded", ["spin.iterations.1.beta=0.5", "spin.loss=hinge", "training.epochs=3",
                                      "heldout_data=null", "spin.iterations.0.epochs=1"])
    assert recipe.train.spin.iterations[1].beta == 0.5
    assert recipe.train.spin.loss is LossKind.HINGE
    assert recipe.train.training.schedule.epochs == 3.0
    assert recipe.train.heldout_data is None
    assert recipe.train.spin.iterations[0].epochs == 1.0


# ------------------------------------------------------------------ unknown keys


def test_unknown_top_level_key_in_a_file(tmp_path):
    raw = _embedded_raw()
    raw["seeed"] = 1
    path = _write(tmp_path, raw)
    message = _config_error(path)
    assert message.startswith(str(path))
    assert "unknown key(s): seeed" in message


@pytest.mark.parametrize(
    ("edit", "dotted"),
    [
        (lambda raw: raw["training"].__setitem__("epocs", 2), "training.epocs"),
        (lambda raw: raw["spin"]["iterations"][2].__setitem__("lr", 1e-5), "spin.iterations.2.lr"),
        (lambda raw: raw["baselines"]["dpo"]["data"].__setitem__("splt", "x"), "baselines.dpo.data.splt"),
    ],
)
def test_unknown_nested_key_in_a_file(tmp_path, edit, dotted):
    raw = _embedded_raw()
    edit(raw)
    path = _write(tmp_path, raw)
    message = _config_error(path)
    assert message.startswith(f"{path}: unknown key(s): {dotted} (allowed: ")


@pytest.mark.parametrize(
    ("override", "dotted"),
    [
        ("spin.iterations.0.betta=1", "spin.iterations.0.betta"),
        ("trainig.epochs=3", "trainig"),
        ("generation.max_tokens=3", "generation.max_tokens"),
        ("baselines.dpo.data.sorce=x", "baselines.dpo.data.sorce"),
        ("embedded.layers=2", "embedded.layers"),
    ],
)
def test_unknown_key_from_an_override_names_file_and_dotted_key(override, dotted):
    message = _config_error("embedded", [override])
    assert message.startswith(str(builtin_recipes()["embedded"]))
    assert "unknown key" in message
    assert dotted in message


# ------------------------------------------------------------------ wrong types


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("training.epochs=abc", "training.epochs"),
        ("generation.do_sample=3", "generation.do_sample"),
        ("generation.do_sample=maybe", "generation.do_sample"),
        ("training.per_device_batch_size=true", "training.per_device_batch_size"),
        ("training.per_device_batch_size=2.5", "training.per_device_batch_size"),
        ("seed=1.5", "seed"),
        ("seed=[1]", "seed"),
        ("name=3", "name"),
        ("model=3", "model"),
        ("spin.iterations=3", "spin.iterations"),
        ("spin.iterations.0.learning_rate=fast", "spin.iterations.0.learning_rate"),
        ("spin.iterations.0.beta=true", "spin.iterations.0.beta"),
        ("spin_data.num_samples=many", "spin_data.num_samples"),
        ("training.max_prompt_length=1.5", "training.max_prompt_length"),
    ],
)
def test_wrong_type_names_the_key(override, key):
    message = _config_error("embedded", [override])
    assert message.startswith(str(builtin_recipes()["embedded"]))
    assert f"{key}:" in message
    assert "expected" in message


# ------------------------------------------------------------------ bad values


@pytest.mark.parametrize(
    ("overrides", "block", "words"),
    [
        (["spin.iterations.0.learning_rate=-1e-5"], "spin.iterations.0", "learning_rate must be > 0"),
        (["spin.iterations.1.beta=0"], "spin.iterations.1", "beta must be > 0"),
        (["baselines.dpo.learning_rate=-0.1"], "baselines.dpo", "learning_rate must be > 0"),
        (["generation.top_p=0"], "generation", "top_p"),
        (["generation.top_p=1.5"], "generation", "top_p"),
        (["generation.max_new_tokens=0"], "generation", "max_new_tokens"),
        (["embedded.hidden_size=65"], "embedded", "hidden_size must be divisible by num_heads"),
        (["spin.iterations=[]"], "spin", "iterations"),
        (["spin.mix_previous=-1"], "spin", "mix_previous"),
        (["training.max_prompt_length=512"], "training", "max_prompt_length must be smaller than max_length"),
        (["training.max_prompt_length=600"], "training", "max_prompt_length"),
        (["training.warmup_ratio=1"], "training", "warmup_ratio"),
        (["baselines.dpo.data=null"], "baselines.dpo", "data is required"),
        (["baselines.dpo.enabled=false", "baselines.dpo.spin_dpo=true", "baselines.dpo.data=null"],
         "baselines.dpo", "data is required"),
        (["spin_data.num_samples=0"], "spin_data", "num_samples"),
        (["model.path="], "model", "path"),
        (["sft_data.source="], "sft_data", "source"),
    ],
)
def test_bad_value_names_the_key(overrides, block, words):
    message = _config_error("embedded", overrides)
    assert message.startswith(f"{builtin_recipes()['embedded']} (with overrides): {block}: ")
    assert words in message


def test_dpo_disabled_needs_no_data():
    recipe = load_recipe("embedded", ["baselines.dpo.enabled=false", "baselines.dpo.data=null"])
    assert recipe.train.baselines.dpo.data is None


def test_enum_field_rejects_unknown_value_listing_the_allowed_ones():
    message = _config_error("embedded", ["spin.loss=sigmoid"])
    assert "spin.loss" in message and "'sigmoid'" in message
    for allowed in ("logistic", "hinge", "exponential", "linear"):
        assert allowed in message
    message = _config_error("embedded", ["training.precision=fp16"])
    assert "training.precision" in message and "bf16" in message and "fp32" in message and "auto" in message
    message = _config_error("embedded", ["generation.backend=tgi"])
    assert "generation.backend" in message and "vllm" in message


# ------------------------------------------------------------------ NaN / infinity


@pytest.mark.parametrize("override", ["spin.iterations.0.learning_rate=nan", "spin.iterations.0.beta=.nan"])
def test_nan_is_rejected(override):
    _config_error("embedded", [override])


@pytest.mark.parametrize("override", ["training.epochs=.inf", "spin.iterations.0.learning_rate=inf"])
def test_infinity_is_rejected(override):
    _config_error("embedded", [override])


# ------------------------------------------------------------------ override syntax


@pytest.mark.parametrize("override", ["training.epochs", "=3", "spin.loss:hinge"])
def test_override_without_equals(override):
    message = _config_error("embedded", [override])
    assert repr(override) in message
    assert "key.sub=value" in message


@pytest.mark.parametrize(
    ("override", "path"),
    [("spin.iterations.3.beta=1", "spin.iterations.3"), ("spin.iterations.7=1", "spin.iterations.7"),
     ("spin.iterations.one.beta=1", "spin.iterations.one")],
)
def test_override_index_out_of_range(override, path):
    message = _config_error("embedded", [override])
    assert f"{path}:" in message
    assert "list of 3" in message


# ------------------------------------------------------------------ floats written without a dot


def test_exponent_floats_without_a_dot_are_accepted_in_a_file(tmp_path):
    raw = _embedded_raw()
    text = yaml.safe_dump(raw, sort_keys=False)
    text = text.replace("learning_rate: 2.5e-05", "learning_rate: 5e-7", 1)
    assert "learning_rate: 5e-7" in text
    assert isinstance(yaml.safe_load(text)["spin"]["iterations"][0]["learning_rate"], str)
    path = tmp_path / "dotless.yaml"
    path.write_text(text, encoding="utf-8")
    recipe = load_recipe(str(path))
    assert recipe.train.spin.iterations[0].learning_rate == 5e-7
    assert isinstance(recipe.train.spin.iterations[0].learning_rate, float)


@pytest.mark.parametrize(("override", "value"), [("baselines.dpo.learning_rate=5e-7", 5e-7),
                                                  ("spin.iterations.0.learning_rate=1E-4", 1e-4),
                                                  ("training.epochs=2", 2.0)])
def test_exponent_floats_without_a_dot_are_accepted_in_overrides(override, value):
    recipe = load_recipe("embedded", [override])
    got = {"baselines": recipe.train.baselines.dpo.schedule.learning_rate, "spin": recipe.train.spin.iterations[0].learning_rate,
           "training": recipe.train.training.schedule.epochs}[override.split(".")[0]]
    assert got == value and isinstance(got, float)


def test_numeric_strings_are_not_accepted_for_int_fields():
    message = _config_error("embedded", ["seed=1e3"])
    assert "seed:" in message


# ------------------------------------------------------------------ files


def test_invalid_yaml_file_names_the_path(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nspin: {loss: [logistic\n", encoding="utf-8")
    message = _config_error(path)
    assert message.startswith(str(path))
    assert "invalid YAML" in message


@pytest.mark.parametrize("text", ["- name: x\n", "embedded\n", ""])
def test_non_mapping_yaml_file_names_the_path(tmp_path, text):
    path = tmp_path / "list.yaml"
    path.write_text(text, encoding="utf-8")
    message = _config_error(path)
    assert message.startswith(str(path))
    assert "mapping" in message


@pytest.mark.parametrize("name", ["missing.yaml", "missing.yml", "sub/dir/missing.yaml"])
def test_missing_recipe_file_names_the_path(tmp_path, name):
    path = tmp_path / name
    message = _config_error(path)
    assert message.startswith(str(path))
    assert "not found" in message


def test_directory_is_not_a_recipe(tmp_path):
    message = _config_error(tmp_path)
    assert message.startswith(str(tmp_path))


def test_unknown_recipe_name_lists_the_builtins():
    message = _config_error("no-such-recipe")
    assert "'no-such-recipe'" in message
    for name in BUILTIN:
        assert name in message


def test_resolve_recipe_path():
    assert resolve_recipe_path("embedded") == builtin_recipes()["embedded"]


def test_recipe_path_without_yaml_suffix(tmp_path):
    path = tmp_path / "my-recipe"
    path.write_text(builtin_recipes()["embedded"].read_text(encoding="utf-8"), encoding="utf-8")
    assert load_recipe(str(path)) == load_recipe("embedded")


def test_builtin_name_is_not_shadowed_by_a_directory_in_the_cwd(tmp_path, monkeypatch):
    (tmp_path / "embedded").mkdir()
    monkeypatch.chdir(tmp_path)
    assert load_recipe("embedded").name == "embedded"


def test_missing_required_section(tmp_path):
    raw = _embedded_raw()
    del raw["spin"]
    path = _write(tmp_path, raw)
    message = _config_error(path)
    assert message.startswith(str(path))
    assert "spin" in message


# ------------------------------------------------------------------ round trip


@pytest.mark.parametrize(("name", "overrides"), [("embedded", ()), ("paper-zephyr-7b", ()),
                                                 ("embedded", TINY_OVERRIDES),
                                                 ("embedded", ("heldout_data=null", "baselines.dpo.enabled=false",
                                                               "baselines.dpo.data=null", "spin.loss=exponential",
                                                               "training.max_prompt_length=100"))])
def test_dump_yaml_round_trips(tmp_path, name, overrides):
    recipe = load_recipe(name, list(overrides))
    path = tmp_path / "dumped.yaml"
    path.write_text(dump_yaml(recipe), encoding="utf-8")
    again = load_recipe(str(path))
    assert again == recipe
    # And a second dump is byte-identical.
    assert dump_yaml(again) == dump_yaml(recipe)


# ------------------------------------------------------------------ schedules (inline sections)


def test_a_schedule_key_overrides_only_itself():
    """A baseline's own defaults (AdamW, cosine for the SFT epoch) hold for the keys it does not set."""
    recipe = load_recipe("embedded", ["baselines.sft_epoch.learning_rate=3e-4"])
    schedule = recipe.train.baselines.sft_epoch.schedule
    assert (schedule.learning_rate, schedule.optimizer, schedule.lr_scheduler) == (3e-4, "adamw_torch", "cosine")


def test_an_iteration_without_a_learning_rate_uses_the_training_one():
    recipe = load_recipe("embedded", ["training.learning_rate=7e-6", "spin.iterations.1.learning_rate=null"])
    iterations, training = recipe.train.spin.iterations, recipe.train.training
    assert [it.schedule(training).learning_rate for it in iterations] == [2.5e-5, 7e-6, 5e-6]
    assert all(it.schedule(training).optimizer == "rmsprop" for it in iterations)


def test_a_bad_schedule_value_names_its_key():
    message = _config_error("embedded", ["baselines.dpo.warmup_ratio=1.5"])
    assert "baselines.dpo" in message and "warmup_ratio must be in [0, 1)" in message
    assert "unknown key(s): baselines.dpo.warmup" in _config_error("embedded", ["baselines.dpo.warmup=0.1"])


def test_the_dump_keeps_the_file_layout():
    plain = yaml.safe_load(dump_yaml(load_recipe("embedded")))
    assert "schedule" not in plain["training"] and plain["training"]["optimizer"] == "rmsprop"
    assert plain["baselines"]["sft_epoch"]["optimizer"] == "adamw_torch" and "train" not in plain
    assert plain["ablations"]["size"]["sizes"] == [64, 128, 256] and "studies" not in plain["ablations"]
