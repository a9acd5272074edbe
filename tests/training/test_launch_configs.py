"""The shipped ZeRO-3 launch config and the paper recipe agree with each other and with the paper.

The config itself is run for real across 2 CPU processes in test_zero3.py; the launch checks are here."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from spin_bench.core.enums import Backend, LossKind
from spin_bench.recipe import load_recipe

ZERO3 = Path(str(resources.files("training") / "launch" / "zero3.yaml"))


def test_zero3_config_is_a_valid_accelerate_deepspeed_config():
    from accelerate.commands.config.config_args import ClusterConfig

    config = ClusterConfig.from_yaml_file(str(ZERO3))
    assert config.distributed_type == "DEEPSPEED"
    assert config.deepspeed_config["zero_stage"] == 3
    assert config.deepspeed_config["zero3_init_flag"] is True
    assert config.deepspeed_config["zero3_save_16bit_model"] is True
    # Precision follows the recipe (training.precision), so the one config serves a CPU (fp32) and a GPU (bf16).
    assert config.mixed_precision == "no" and config.num_processes == 8
    assert config.deepspeed_config["offload_optimizer_device"] == "none"


def test_paper_recipe_matches_the_paper():
    from accelerate.commands.config.config_args import ClusterConfig

    recipe = load_recipe("paper-zephyr-7b")
    processes = ClusterConfig.from_yaml_file(str(ZERO3)).num_processes
    global_batch = recipe.train.training.per_device_batch_size * recipe.train.training.gradient_accumulation_steps * processes
    assert global_batch == 64
    assert [i.learning_rate for i in recipe.train.spin.iterations] == [5e-7, 5e-7, 1e-7, 1e-7]
    assert [i.beta for i in recipe.train.spin.iterations] == [0.1, 0.1, 0.1, 5.0]
    assert recipe.train.spin.loss is LossKind.LOGISTIC and recipe.train.spin.mix_previous == 1
    assert recipe.train.training.schedule.optimizer == "rmsprop" and recipe.train.training.schedule.warmup_ratio == 0.1
    assert recipe.train.training.schedule.epochs == 2 and recipe.train.training.max_length == 2048
    assert recipe.train.spin_data.num_samples == 50000 and recipe.train.spin_data.split == "train_sft"
    assert recipe.train.generation.max_new_tokens == 256 and recipe.train.generation.do_sample is False
    assert recipe.train.model.revision == "ac6e600eefcce74f5e8bae1035d4f66019e93190"
    assert recipe.train.baselines.dpo.spin_dpo and recipe.train.baselines.dpo.spin_dpo_epochs == 2


def test_vllm_backend_without_vllm_is_a_clear_user_error():
    from spin_bench.core.errors import UserError
    from spin_bench.inference.generation import VLLMGenerator

    pytest.importorskip("torch")
    try:
        import vllm  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("vLLM is installed here; this checks the CPU-only install")
    recipe = load_recipe("paper-zephyr-7b")
    assert recipe.train.generation.backend is Backend.VLLM
    with pytest.raises(UserError, match="generation.backend=vllm needs vLLM"):
        VLLMGenerator(model_path="unused", config=recipe.train.generation)


def _launch_environment(**settings: str) -> dict[str, str]:
    """The environment `accelerate launch --config_file zero3.yaml` hands to each process."""
    from accelerate.commands.config.config_args import ClusterConfig

    config = ClusterConfig.from_yaml_file(str(ZERO3))
    environ = {"ACCELERATE_USE_DEEPSPEED": "true", "ACCELERATE_MIXED_PRECISION": str(config.mixed_precision),
               "ACCELERATE_DEEPSPEED_ZERO_STAGE": str(config.deepspeed_config["zero_stage"]),
               "ACCELERATE_DEEPSPEED_OFFLOAD_OPTIMIZER_DEVICE": config.deepspeed_config["offload_optimizer_device"],
               "ACCELERATE_DEEPSPEED_OFFLOAD_PARAM_DEVICE": config.deepspeed_config["offload_param_device"]}
    return {**environ, **settings}


@pytest.mark.parametrize("precision", ["fp32", "bf16", "auto"])
def test_the_shipped_zero3_config_serves_every_recipe_precision(precision):
    from training.deepspeed_launch import check_deepspeed_launch

    training = load_recipe("embedded", [f"training.precision={precision}"]).train.training
    launch = check_deepspeed_launch(training, _launch_environment())
    assert launch is not None and launch.zero_stage == 3 and launch.offload_optimizer == "none"


def test_no_deepspeed_launch_is_no_check():
    from training.deepspeed_launch import check_deepspeed_launch

    assert check_deepspeed_launch(load_recipe("embedded").train.training, {}) is None


def test_launch_precision_that_disagrees_with_the_recipe_is_refused():
    from spin_bench.core.errors import UserError
    from training.deepspeed_launch import check_deepspeed_launch

    training = load_recipe("embedded", ["training.precision=fp32"]).train.training
    with pytest.raises(UserError, match="mixed_precision=bf16 disagrees with training.precision=fp32"):
        check_deepspeed_launch(training, _launch_environment(ACCELERATE_MIXED_PRECISION="bf16"))


def test_optimizer_offload_that_would_swap_the_optimizer_is_refused(tmp_path):
    from spin_bench.core.errors import UserError
    from training.deepspeed_launch import check_deepspeed_launch

    training = load_recipe("embedded").train.training
    offload = _launch_environment(ACCELERATE_DEEPSPEED_OFFLOAD_OPTIMIZER_DEVICE="cpu")
    with pytest.raises(UserError, match=r"replace the recipe's optimizer \(rmsprop\) with DeepSpeed's CPU Adam"):
        check_deepspeed_launch(training, offload)
    # A DeepSpeed config file can keep the recipe's optimizer.
    kept = tmp_path / "ds.json"
    kept.write_text('{"zero_optimization": {"stage": 3, "offload_optimizer": {"device": "cpu"}},'
                    ' "zero_force_ds_cpu_optimizer": false}')
    launch = check_deepspeed_launch(training, {"ACCELERATE_USE_DEEPSPEED": "true", "ACCELERATE_MIXED_PRECISION": "no",
                                               "ACCELERATE_DEEPSPEED_CONFIG_FILE": str(kept)})
    assert launch.offload_optimizer == "cpu" and launch.zero_stage == 3


@pytest.mark.parametrize("content, message", [(None, "no such file"), ("{not json", "not valid JSON"),
                                              ("[1, 2]", "must be a JSON object")])
def test_bad_deepspeed_config_file_names_the_file(tmp_path, content, message):
    from spin_bench.core.errors import UserError
    from training.deepspeed_launch import check_deepspeed_launch

    path = tmp_path / "ds_config.json"
    if content is not None:
        path.write_text(content)
    environ = {"ACCELERATE_USE_DEEPSPEED": "true", "ACCELERATE_DEEPSPEED_CONFIG_FILE": str(path)}
    with pytest.raises(UserError, match=f"{path}.*{message}"):
        check_deepspeed_launch(load_recipe("embedded").train.training, environ)


def test_missing_deepspeed_config_file_is_one_line_before_anything_is_built(tmp_path):
    """What each process of `accelerate launch` with a missing deepspeed_config_file sees (the launcher then
    adds its own ChildFailedError report): exit 2, one line naming the file, no run directory."""
    import os
    import subprocess
    import sys

    missing = tmp_path / "ds_config.json"
    environ = {**os.environ, "ACCELERATE_USE_DEEPSPEED": "true", "ACCELERATE_DEEPSPEED_CONFIG_FILE": str(missing)}
    result = subprocess.run([sys.executable, "-m", "spin_bench", "train", "--recipe", "embedded", "--out",
                             str(tmp_path / "run")], capture_output=True, text=True, env=environ, cwd=tmp_path,
                            timeout=300)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[-1] == f"spin-bench: error: {missing} (deepspeed_config_file of the accelerate config): no such file"
    assert not (tmp_path / "run").exists()
