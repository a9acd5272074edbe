"""The embedded SFT model: a tiny Llama pre-trained and fine-tuned by project code, cached on first use.

Built deterministically from the recipe's `embedded` block and the SFT rows: the world's pre-training text
trains a byte-level BPE tokenizer and a few-million-parameter Llama (a short, budgeted pre-training), then
one SFT epoch on the SFT split gives a deliberately weak SFT checkpoint, the paper's starting point.
Nothing is downloaded and no weights are kept in git.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from spin_bench.core.enums import Precision
from spin_bench.core.errors import UserError
from spin_bench.core.hashing import stable_hash
from spin_bench.core.paths import cache_root
from spin_bench.inference.checkpoints import ResolvedModel
from training.config import (
    EmbeddedModelConfig,
    Schedule,
    TrainingConfig,
    TrainingRecipe,
)
from training.data import LoadedData, PromptResponse
from training.sft_training import SftStage, train_sft
from training.stages import KeyedStage, run_stage, stage_done

# Bump when the build procedure changes, so cached models built the old way are not reused.
BUILD_VERSION = 2
PRETRAIN_SEQUENCE = 512


def resolve_model(recipe: TrainingRecipe, sft_data: LoadedData) -> ResolvedModel:
    """The recipe's starting model: "embedded" builds (or reuses) the embedded SFT model; a directory must
    hold a model; anything else is a Hub id."""
    model = recipe.model
    if model.path == "embedded":
        return ResolvedModel(path=str(build_embedded_model(recipe.embedded, sft_data.rows, recipe.seed)))
    path = Path(model.path).expanduser()
    if path.exists() or model.path.startswith((".", "/", "~")):
        if not (path / "config.json").is_file() and not (model.gguf_file and (path / model.gguf_file).is_file()):
            raise UserError(f"{path}: not a model directory (no config.json)")
        return ResolvedModel(path=str(path), gguf_file=model.gguf_file)
    return ResolvedModel(path=model.path, revision=model.revision, gguf_file=model.gguf_file)


def embedded_model_dir(config: EmbeddedModelConfig, sft_rows: Sequence[PromptResponse]) -> tuple[Path, str]:
    from spin_bench.data.world import code_fingerprint

    # The world's code is in the key: the pre-training text is made by it, and is not an input here.
    key = stable_hash({"version": BUILD_VERSION, "config": config, "world": code_fingerprint(),
                       "sft": [(r.prompt, r.response) for r in sft_rows]})
    return cache_root() / "embedded" / key, key


def build_embedded_model(config: EmbeddedModelConfig, sft_rows: Sequence[PromptResponse], seed: int) -> Path:
    """Directory of the embedded SFT model, building it (about a minute on 2 cores) if not cached."""
    root, key = embedded_model_dir(config, sft_rows)
    final = root / "sft"
    if stage_done(final, key):
        return final
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise UserError(
            "the embedded model is not built yet; build it once in a single process first "
            "(spin-bench build-embedded), then launch with torchrun"
        )
    print(f"[spin-bench] building the embedded SFT model in {root} (first use only)", file=sys.stderr, flush=True)
    init = _initial_model(config, root / "init", seed)
    pretrained = _pretrain(config, init, root, seed)
    _supervised(config, pretrained, sft_rows, KeyedStage(None, final, key, root / ".work-sft"), seed)
    return final


def _initial_model(config: EmbeddedModelConfig, directory: Path, seed: int) -> ResolvedModel:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from spin_bench.core.atomic import atomic_directory
    from spin_bench.data.world import WorldConfig, build_world, pretrain_texts
    from training.embedded.tokenizer import train_tokenizer

    if not (directory / "config.json").is_file():
        world = build_world(WorldConfig(seed=config.world_seed))
        tokenizer = train_tokenizer(pretrain_texts(world["pretrain"]), config.vocab_size)
        model_config = LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=config.hidden_size,
            intermediate_size=config.intermediate_size,
            num_hidden_layers=config.num_layers,
            num_attention_heads=config.num_heads,
            num_key_value_heads=config.num_heads,
            max_position_embeddings=config.max_position_embeddings,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
            tie_word_embeddings=True,
        )
        torch.manual_seed(seed)
        model = LlamaForCausalLM(model_config)
        model.generation_config.pad_token_id = tokenizer.pad_token_id
        with atomic_directory(directory) as scratch:
            model.save_pretrained(scratch)
            tokenizer.save_pretrained(scratch)
    return ResolvedModel(path=str(directory))


def _pretrain(config: EmbeddedModelConfig, init: ResolvedModel, root: Path, seed: int) -> ResolvedModel:
    from datasets import Dataset

    from spin_bench.data.world import WorldConfig, build_world, pretrain_texts

    stage = KeyedStage(None, root / "pretrained", stable_hash({"init": init.content_hash(), "config": config}),
                       root / ".work-pretrain")

    def produce(stage: KeyedStage) -> None:
        texts = pretrain_texts(build_world(WorldConfig(seed=config.world_seed))["pretrain"])
        schedule = Schedule(learning_rate=config.pretrain_learning_rate, epochs=1.0, optimizer="adamw_torch",
                            lr_scheduler="cosine", warmup_ratio=0.05)
        spec = SftStage(start=init, rows=(), schedule=schedule, max_steps=config.pretrain_steps,
                        sft_args={"packing": True, "packing_strategy": "wrapped", "dataset_text_field": "text"})
        training = _budget_training(config.pretrain_batch_size, PRETRAIN_SEQUENCE)
        train_sft(spec, stage, training, seed, {"embedded.json": {"phase": "pretrain"}},
                  dataset=Dataset.from_dict({"text": texts}))

    run_stage(stage, produce)
    return ResolvedModel(path=str(stage.out))


def _supervised(config, pretrained: ResolvedModel, sft_rows, stage: KeyedStage, seed: int) -> None:
    # One epoch, as the paper's SFT model (zephyr-7b-sft-full) had; weak because pre-training was short.
    schedule = Schedule(learning_rate=config.sft_learning_rate, epochs=1.0, optimizer="adamw_torch",
                        lr_scheduler="cosine", warmup_ratio=0.1)
    spec = SftStage(start=pretrained, rows=tuple(sft_rows), schedule=schedule)
    training = _budget_training(config.sft_batch_size, config.max_position_embeddings)
    provenance = {"phase": "sft", "build_version": BUILD_VERSION, "config": config, "sft_rows": len(sft_rows)}
    run_stage(stage, lambda stage: train_sft(spec, stage, training, seed, {"embedded.json": provenance}))


def _budget_training(batch_size: int, max_length: int) -> TrainingConfig:
    return TrainingConfig(per_device_batch_size=batch_size, max_length=max_length, precision=Precision.FP32,
                          logging_steps=10)
