"""lm-eval task configs for a suite: small YAML files that `include:` lm-eval's own task YAML and override
only what spin-bench must (shots, data location, the v0.4.0 GSM8K variant). Nothing of lm-eval is copied.

Every task gets a new name (``spin_<name>``) and its own tag: an included YAML's tag would otherwise be
rebuilt from this directory alone and clobber lm-eval's built-in tag of the same name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from spin_bench.bench.suites import TaskSpec
from spin_bench.core.atomic import atomic_directory, write_text_atomic
from spin_bench.core.errors import UserError
from spin_bench.core.hashing import stable_hash

TAG = "spin_bench"
MMLU_GROUP = "spin_mmlu"

# lm-eval v0.4.0's gsm8k.yaml (commit 46c7966, used by the paper): stops at a blank line or the next
# question, and scores the number after "#### " with no trailing-period stripping. Values are facts about
# that release, written as overrides of today's YAML.
GSM8K_V040 = {
    "generation_kwargs": {"until": ["\n\n", "Question:"], "do_sample": False, "temperature": 0.0},
    "filter_list": [{"name": "get-answer", "filter": [
        {"function": "regex", "regex_pattern": "#### (\\-?[0-9\\.\\,]+)"}, {"function": "take_first"}]}],
    "metric_list": [{"metric": "exact_match", "aggregation": "mean", "higher_is_better": True,
                     "ignore_case": True, "ignore_punctuation": False,
                     "regexes_to_ignore": [",", "\\$", "(?s).*#### "]}],
}


@dataclass(frozen=True)
class BenchData:
    """Where the benchmark items come from: a data directory with a manifest, or the Hub (None)."""

    directory: Path | None
    manifest: dict[str, Any] | None

    def deviations(self, spec: TaskSpec) -> list[str]:
        if self.manifest is None:
            return []
        return list(self.manifest["tasks"][spec.data_dir].get("deviations", []))

    def content_hash(self) -> str:
        if self.manifest is None:
            return "hub"
        return stable_hash({k: v["files"] for k, v in self.manifest["tasks"].items()})

    @property
    def identity(self) -> str:
        """What the stored scores name as their data: the manifest's sources and its files' content hash. Not the
        directory, which differs between cache roots and machines holding the same files."""
        if self.manifest is None:
            return "hub"
        return f"{'+'.join(sorted(self.manifest.get('sources', {}))) or 'local'}@{self.content_hash()}"


# Keys lm-eval adds to a config that say where a file lives, not what a task is.
_LOCATION_KEYS = frozenset({"config_source"})


def location_free(config: Any, data: BenchData) -> Any:
    """`config` (ours or lm-eval's echo of it) with every file location made relative to the root it lives
    under: lm-eval's task folder, the benchmark data directory. Why: cache keys and task config hashes must be
    equal for the same tasks on the same data wherever the checkout, the venv or the cache lives (and whichever
    suites were scored together, which decides the task folder's name); the data's content is keyed apart."""
    roots = [(str(lm_eval_tasks_dir()), "<lm_eval>/tasks")]
    if data.directory is not None:
        roots.append((str(data.directory), "<data>"))

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in _LOCATION_KEYS}
        if isinstance(value, list | tuple):
            return [strip(v) for v in value]
        if isinstance(value, str):
            for root, name in roots:
                if value.startswith(root + "/"):
                    return name + value[len(root):]
        return value

    return strip(config)


def lm_eval_tasks_dir() -> Path:
    """lm-eval's task YAML folder, found without importing lm-eval (a cached evaluation never needs it)."""
    import importlib.util

    spec = importlib.util.find_spec("lm_eval")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("lm-eval is not installed: pip install 'lm-eval==0.4.13'")
    return Path(list(spec.submodule_search_locations)[0]) / "tasks"


def task_configs(specs: tuple[TaskSpec, ...], data: BenchData) -> dict[str, dict[str, Any]]:
    """File name -> YAML mapping for every lm-eval task (and the MMLU group) the specs need."""
    configs: dict[str, dict[str, Any]] = {}
    for spec in specs:
        if spec.name == "mmlu":
            configs.update(_mmlu_configs(spec, data))
        else:
            configs[f"spin_{spec.name}.yaml"] = _task_config(spec, data, lm_eval_tasks_dir() / spec.lm_eval_yaml)
    return configs


def lm_eval_name(spec: TaskSpec) -> str:
    """The name lm-eval knows the spec by (a group for MMLU)."""
    return MMLU_GROUP if spec.name == "mmlu" else f"spin_{spec.name}"


def write_task_dir(specs: tuple[TaskSpec, ...], data: BenchData, root: Path) -> Path:
    """Write the configs under ``root/<content hash>`` (reused when identical) and return that directory."""
    configs = task_configs(specs, data)
    texts = {name: yaml.safe_dump(config, sort_keys=True, allow_unicode=True) for name, config in configs.items()}
    directory = root / stable_hash(texts)
    if not (directory / ".complete").is_file():
        with atomic_directory(directory) as scratch:
            for name, text in texts.items():
                write_text_atomic(scratch / name, text)
            write_text_atomic(scratch / ".complete", "")
    return directory


def _task_config(spec: TaskSpec, data: BenchData, include: Path, name: str | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {"include": str(include), "task": name or f"spin_{spec.name}", "tag": TAG,
                              "num_fewshot": spec.shots}
    if spec.name == "gsm8k_v040":
        config.update(GSM8K_V040)
    if data.manifest is not None:
        config.update(_local_data(spec, data, subject=None))
    return config


def _local_data(spec: TaskSpec, data: BenchData, subject: str | None) -> dict[str, Any]:
    """Point a task at parquet files of a data directory, with the splits its manifest names."""
    from spin_bench.data.manifest import task_files

    if spec.data_dir not in data.manifest["tasks"]:
        raise UserError(f"{data.directory}: the data directory has no {spec.data_dir!r} (needed by {spec.name})")
    hint = data.manifest["tasks"][spec.data_dir]["lm_eval"]
    files = task_files(data.manifest, data.directory, spec.data_dir)
    prefix = f"{subject}/" if subject else ""
    splits = {stem.removeprefix(prefix): str(path) for stem, path in files.items()
              if (stem.startswith(prefix) if subject else "/" not in stem)}
    fewshot = hint.get("fewshot_split")
    config: dict[str, Any] = {
        "dataset_path": "parquet",
        "dataset_name": None,
        "dataset_kwargs": {"data_files": splits},
        "test_split": hint["test_split"],
        "training_split": "train" if "train" in splits else None,
        "validation_split": "validation" if "validation" in splits else None,
    }
    if fewshot:
        config["fewshot_split"] = fewshot
    if fewshot == "fewshot" or hint.get("fewshot_sampler") == "first_n":
        # A fixed list of exemplars (GSM8K's standard chain-of-thought ones, the embedded world's BBH shots):
        # take them in order. This also replaces a task's built-in exemplars (BBH's `samples`).
        config["fewshot_config"] = {"sampler": "first_n"}
    return config


def _mmlu_configs(spec: TaskSpec, data: BenchData) -> dict[str, dict[str, Any]]:
    """One task per subject and a group whose score is lm-eval's size-weighted mean (micro)."""
    tasks_dir = lm_eval_tasks_dir() / "mmlu" / "default"
    if data.manifest is None:
        subjects = sorted(p.stem.removeprefix("mmlu_") for p in tasks_dir.glob("mmlu_*.yaml"))
    else:
        subjects = list(data.manifest["tasks"].get("mmlu", {}).get("lm_eval", {}).get("subjects", []))
        if not subjects:
            raise UserError(f"{data.directory}: the data directory has no MMLU subjects")
    configs: dict[str, dict[str, Any]] = {}
    for subject in subjects:
        stock = tasks_dir / f"mmlu_{subject}.yaml"
        name = f"spin_mmlu_{subject}"
        if stock.is_file():
            config = {"include": str(stock), "task": name, "tag": TAG, "num_fewshot": spec.shots}
        else:  # a subject of the embedded world: lm-eval's MMLU template with its own description
            config = {"include": str(tasks_dir / "_default_template_yaml"), "task": name, "tag": TAG,
                      "num_fewshot": spec.shots, "task_alias": subject,
                      "description": f"The following are multiple choice questions (with answers) about {subject}.\n\n"}
        if data.manifest is not None:
            config.update(_local_data(spec, data, subject))
        configs[f"{name}.yaml"] = config
    configs[f"{MMLU_GROUP}.yaml"] = {
        "group": MMLU_GROUP,
        "task": [f"spin_mmlu_{s}" for s in subjects],
        "aggregate_metric_list": [{"metric": "acc", "weight_by_size": True}],
        "metadata": {"version": 2},
    }
    return configs
