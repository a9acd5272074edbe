"""The shipped GPU launch config and the paper recipe agree with each other and with the paper.

ZeRO-3 cannot run on a CPU; this checks what can be checked without GPUs."""

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
    assert config.mixed_precision == "bf16" and config.num_processes == 8


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
