"""FastChat conversation templates for MT-Bench answers, checked against FastChat (fschat 0.2.36) itself.

The reference is what FastChat's llm_judge/gen_model_answer.py does for a model: the template from
``get_conversation_template(model_id)``, turn 2 appended after the model's own turn-1 answer, the prompt
encoded with ``tokenizer([prompt])`` (which adds BOS for a Mistral tokenizer like zephyr's) and greedy
``model.generate`` for the greedy categories. The zephyr-style tokenizer and the tiny Llama here are built on
the spot (no Hub): a Llama tokenizer with byte fallback that adds BOS, as zephyr-7b-sft-full's does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("fastchat", reason="the `fastchat` extra (fschat) is not installed")

from fastchat.conversation import get_conv_template
from tokenizers import AddedToken, Tokenizer, decoders, processors
from tokenizers.models import BPE

from spin_bench.core.errors import UserError
from spin_bench.inference.prompts import check_template, fastchat_renderer
from spin_bench.mtbench.answers import (
    AnswerSettings,
    generate_answers,
    settings_for_model,
)
from spin_bench.mtbench.dataset import MTBenchData, Question

REPO = Path(__file__).resolve().parents[2]
# Two turns of MT-Bench question 81 (writing), shortened; turn 2 depends on the turn-1 answer.
TURNS = ("Compose an engaging travel blog post about a recent trip to Hawaii.",
         "Rewrite your previous response. Start every sentence with the letter A.")
TURN1_ANSWER = "Aloha! Here is the post: the beaches were warm."
ZEPHYR_PROMPT_TURN2 = ("<|system|>\n</s>\n<|user|>\n" + TURNS[0] + "</s>\n<|assistant|>\n" + TURN1_ANSWER
                       + "</s>\n<|user|>\n" + TURNS[1] + "</s>\n<|assistant|>\n")


def write_zephyr_tokenizer(directory: Path, legacy: bool = True) -> Path:
    """A small Llama tokenizer as zephyr-7b-sft-full's loads: BPE with byte fallback, BOS added in front."""
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2} | {f"<0x{b:02X}>": 3 + b for b in range(256)}
    for char in "▁" + "".join(chr(c) for c in range(33, 127)):
        vocab.setdefault(char, len(vocab))
    merges = [("▁", "t"), ("h", "e"), ("▁t", "he"), ("<", "|"), ("|", ">"), ("▁", "A")]
    for left, right in merges:
        vocab.setdefault(left + right, len(vocab))
    tokenizer = Tokenizer(BPE(vocab=vocab, merges=merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tokenizer.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                             special_tokens=[("<s>", 1)])
    tokenizer.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                           decoders.Strip(" ", 1, 0)])
    tokenizer.add_special_tokens([AddedToken(t, normalized=False) for t in ("<unk>", "<s>", "</s>")])
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(directory / "tokenizer.json"))
    config = {"tokenizer_class": "LlamaTokenizer", "legacy": legacy, "add_bos_token": True, "add_eos_token": False,
              "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "</s>"}
    (directory / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return directory


def write_byte_level_tokenizer(directory: Path) -> Path:
    """A GPT-2-style byte-level tokenizer that adds no special tokens (as SmolLM2's and the embedded model's)."""
    from tokenizers import ByteLevelBPETokenizer

    tokenizer = ByteLevelBPETokenizer()
    tokenizer.train_from_iterator([*TURNS, TURN1_ANSWER], vocab_size=300, special_tokens=["</s>"], show_progress=False)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(directory / "tokenizer.json"))
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "eos_token": "</s>"}
    (directory / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return directory


def load_tokenizer(directory: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(directory)


def gen_model_answer_prompts(model_id: str, turn1_answer: str) -> list[str]:
    """The two prompts gen_model_answer.py builds for one question, through FastChat's Conversation API."""
    from fastchat.model import get_conversation_template

    conv = get_conversation_template(model_id)
    prompts = []
    for turn, answer in zip(TURNS, (turn1_answer, None), strict=True):
        conv.append_message(conv.roles[0], turn)
        conv.append_message(conv.roles[1], None)
        prompts.append(conv.get_prompt())
        conv.update_last_message(answer)
    return prompts


def our_messages(turn: int, turn1_answer: str) -> list[dict[str, str]]:
    """The messages spin-bench's answer generator renders for turn 1 and turn 2 (spin_bench.mtbench.answers)."""
    messages = [{"role": "user", "content": TURNS[0]}]
    if turn == 2:
        messages += [{"role": "assistant", "content": turn1_answer}, {"role": "user", "content": TURNS[1]}]
    return messages


# ------------------------------------------------------------------ the rendered prompt


@pytest.mark.slow  # fastchat.model imports torch and transformers: about 10 s here
@pytest.mark.parametrize("legacy", [True, False], ids=["legacy-metaspace", "first-only-metaspace"])
def test_zephyr_template_gives_gen_model_answers_prompt_and_token_ids(tmp_path, legacy):
    tokenizer = load_tokenizer(write_zephyr_tokenizer(tmp_path / "tok", legacy))
    expected = gen_model_answer_prompts("zephyr-7b-sft-full", TURN1_ANSWER)  # FastChat matches it to "zephyr"
    assert expected[1] == ZEPHYR_PROMPT_TURN2
    render = fastchat_renderer(tokenizer, "zephyr")
    for turn, prompt in zip((1, 2), expected, strict=True):
        ours = render(our_messages(turn, TURN1_ANSWER))
        assert ours.removeprefix("<s>").lstrip(" ") == prompt
        # What reaches the model: the generators encode without special tokens; FastChat with them (BOS).
        fastchat_ids = tokenizer([prompt]).input_ids[0]
        assert fastchat_ids[0] == tokenizer.bos_token_id
        assert tokenizer(ours, add_special_tokens=False)["input_ids"] == fastchat_ids


def test_a_tokenizer_without_bos_gets_fastchats_text_unchanged(tmp_path):
    tokenizer = load_tokenizer(write_byte_level_tokenizer(tmp_path / "tok"))
    assert tokenizer("x")["input_ids"] == tokenizer("x", add_special_tokens=False)["input_ids"]
    prompt = fastchat_renderer(tokenizer, "zephyr")(our_messages(2, TURN1_ANSWER))
    assert prompt == ZEPHYR_PROMPT_TURN2
    conv = get_conv_template("vicuna_v1.1")
    conv.append_message(conv.roles[0], TURNS[0])
    conv.append_message(conv.roles[1], None)
    assert fastchat_renderer(tokenizer, "vicuna_v1.1")(our_messages(1, "")) == conv.get_prompt()


# ------------------------------------------------------------------ answers, as gen_model_answer.py makes them


@pytest.fixture(scope="module")
def tiny_zephyr(tmp_path_factory) -> Path:
    """A randomly initialised 2-layer Llama with the zephyr-style tokenizer, in a directory named like zephyr."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    directory = write_zephyr_tokenizer(tmp_path_factory.mktemp("models") / "zephyr-tiny")
    vocab_size = len(load_tokenizer(directory))
    torch.manual_seed(0)
    # Weights larger than the default init, so that the answers depend on the whole prompt (turn 2 differs).
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, bos_token_id=1, eos_token_id=2, pad_token_id=2,
                         initializer_range=0.5)
    model = LlamaForCausalLM(config)
    # No special token is ever generated (both sides read generation_config.json), so answers run to full
    # length. A stray BOS between byte-fallback pieces decodes differently on the two sides (FastChat deletes
    # the "<s>" text after decoding, transformers skips the token first); trained models do not emit one.
    model.generation_config.suppress_tokens = [0, 1, 2]
    model.save_pretrained(directory)
    return directory


def reference_answers(model_dir: Path, max_new_tokens: int) -> tuple[str, str]:
    """Both turns the way gen_model_answer.py answers a greedy-category question (its steps, in our words)."""
    import torch
    from fastchat.model import get_conversation_template
    from transformers import AutoModelForCausalLM

    tokenizer = load_tokenizer(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    conv = get_conversation_template(str(model_dir))
    answers = []
    for turn in TURNS:
        conv.append_message(conv.roles[0], turn)
        conv.append_message(conv.roles[1], None)
        input_ids = tokenizer([conv.get_prompt()]).input_ids
        with torch.inference_mode():
            output = model.generate(torch.as_tensor(input_ids), do_sample=False, max_new_tokens=max_new_tokens)
        new = output[0][len(input_ids[0]):].tolist()
        new = new[: new.index(2)] if 2 in new else new  # the template's stop token id
        text = tokenizer.decode(new, spaces_between_special_tokens=False)
        for special in tokenizer.special_tokens_map.values():
            text = text.replace(special, "")
        answers.append(text.strip())
        conv.update_last_message(answers[-1])
    return answers[0], answers[1]


def one_question_data() -> MTBenchData:
    # "math" is a greedy category in FastChat's temperature table, so both sides decode deterministically.
    return MTBenchData(questions=(Question(question_id=111, category="math", turns=TURNS),), prompts={}, source={})


@pytest.mark.slow
@pytest.mark.parametrize("template", ["fastchat:zephyr", "fastchat:auto"])
def test_answers_are_gen_model_answers_answers(tiny_zephyr, tmp_path, template):
    settings = AnswerSettings(template=template, max_new_tokens=12, batch_size=1)
    answers = generate_answers(str(tiny_zephyr), one_question_data(), settings, tmp_path / "answers.json")
    turn1, turn2 = answers[111]
    assert len(turn1) > 3 and turn2 != turn1
    assert (turn1, turn2) == reference_answers(tiny_zephyr, max_new_tokens=12)


# ------------------------------------------------------------------ fastchat:auto, FastChat's own matching


@pytest.mark.slow  # imports fastchat.model
def test_auto_matches_as_fastchat_does_on_the_path_then_the_recorded_base_model(tmp_path):
    from fastchat.model import get_conversation_template

    iteration = tmp_path / "runs" / "paper" / "iter1"
    iteration.mkdir(parents=True)
    (iteration / "spin_config.json").write_text(json.dumps(
        {"iteration": 1, "recipe": {"model": {"path": "alignment-handbook/zephyr-7b-sft-full", "revision": None}}}))
    plain = tmp_path / "runs" / "embedded" / "iter0"
    plain.mkdir(parents=True)
    (plain / "spin_config.json").write_text(json.dumps({"recipe": {"model": {"path": "embedded"}}}))
    auto = AnswerSettings(template="fastchat:auto")
    cases = {
        "HuggingFaceH4/zephyr-7b-beta": "zephyr",
        "lmsys/vicuna-7b-v1.5": "vicuna_v1.1",
        str(iteration): "zephyr",  # its path names no family; the model its recipe started from does
        str(plain): get_conversation_template(str(plain)).name,  # nothing matches: FastChat's own fallback
    }
    for model_path, name in cases.items():
        resolved = settings_for_model(auto, model_path)
        assert resolved.template == f"fastchat:{name}", model_path
        assert resolved.max_new_tokens == auto.max_new_tokens
    assert cases[str(plain)] == "one_shot"
    explicit = AnswerSettings(template="fastchat:zephyr")
    assert settings_for_model(explicit, str(plain)) is explicit


# ------------------------------------------------------------------ bad input and laziness


def test_unknown_template_and_missing_fschat_are_one_line_errors(monkeypatch):
    with pytest.raises(UserError, match=r"FastChat has no conversation template 'zephyrr' \(known: .*zephyr"):
        check_template("fastchat:zephyrr")
    for module in ("fastchat", "fastchat.conversation", "fastchat.model", "fastchat.model.model_adapter"):
        monkeypatch.setitem(sys.modules, module, None)  # what an install without the extra sees
    for template in ("fastchat:zephyr", "fastchat:auto"):
        with pytest.raises(UserError, match=r"pip install 'spin-bench\[fastchat\]'") as caught:
            check_template(template)
        assert "\n" not in str(caught.value)
    check_template("chat_template")  # needs nothing


def test_missing_fschat_stops_eval_before_any_work(tiny_zephyr, tmp_path, monkeypatch, capsys):
    from spin_bench.cli import main

    for module in ("fastchat", "fastchat.conversation"):
        monkeypatch.setitem(sys.modules, module, None)
    code = main(["eval", "--model", str(tiny_zephyr), "--suite", "mt_bench", "--data", "embedded",
                 "--judge-url", "http://127.0.0.1:9/v1", "--judge-model", "gpt-4", "--mt-bench-template",
                 "fastchat:zephyr", "--store", str(tmp_path / "store.db"), "--out", str(tmp_path / "results")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "pip install 'spin-bench[fastchat]'" in err
    assert sorted(tmp_path.iterdir()) == []


def test_fschat_is_not_imported_unless_a_fastchat_template_is_chosen():
    code = ("import sys, spin_bench.cli, spin_bench.bench.stage, spin_bench.mtbench.evaluate, spin_bench.recipe\n"
            "from spin_bench.inference.prompts import check_template\n"
            "check_template('chat_template')\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'fastchat'))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# ------------------------------------------------------------------ the recipe's MT-Bench section


@pytest.mark.slow
def test_a_recipes_fastchat_template_reaches_the_answer_generator(tiny_sft_model, tmp_path):
    """`spin-bench run` scores a run with the recipe's bench section (pipeline.score): its template is used."""
    from spin_bench.core.paths import cache_root
    from spin_bench.core.run_layout import RUN_JSON, CheckpointEntry, RunSummary
    from spin_bench.core.typed_config import dump_yaml, load_yaml_mapping
    from spin_bench.pipeline import score
    from spin_bench.recipe import builtin_recipes, load_recipe
    from spin_bench.store import ResultsStore
    from tests.mtbench.judge_servers import ScriptedJudge, completion

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    summary = RunSummary(recipe="embedded", checkpoints={"sft": CheckpointEntry(path=str(tiny_sft_model))})
    (run_dir / RUN_JSON).write_text(json.dumps(summary.to_json()), encoding="utf-8")
    raw = load_yaml_mapping(builtin_recipes()["embedded"])
    with ScriptedJudge(lambda body: completion("Rating: [[7]]")) as judge:
        raw["bench"] = {"enabled": True, "suites": "", "store": str(tmp_path / "store.db"),
                        "results_dir": str(tmp_path / "results"),
                        "mt_bench": {"enabled": True, "checkpoints": ["sft"], "data": "embedded",
                                     "questions_per_category": 1, "max_new_tokens": 8, "batch_size": 4,
                                     "template": "fastchat:zephyr", "judge_url": judge.url,
                                     "judge_model": "fastchat-template-test"}}
        recipe_file = tmp_path / "recipe.yaml"
        recipe_file.write_text(dump_yaml(raw), encoding="utf-8")
        recipe = load_recipe(str(recipe_file))
        assert recipe.bench.mt_bench.template == "fastchat:zephyr"
        score(recipe, run_dir, recipe.bench, echo=lambda line: None)
        assert len(judge.requests) == 10
    evaluation = ResultsStore(tmp_path / "store.db").evaluations(suite="mt_bench").iloc[0]
    assert evaluation["label"] == "embedded/sft"
    assert evaluation["extra"]["answer_settings"]["template"] == "fastchat:zephyr"
    answer_files = [json.loads(p.read_text()) for p in (cache_root() / "mt-bench-answers").glob("*.json")]
    ours = [a for a in answer_files if a.get("model") == str(tiny_sft_model) and a["settings"]["template"] ==
            "fastchat:zephyr" and a["settings"]["max_new_tokens"] == 8]
    assert len(ours) == 1 and len(ours[0]["answers"]) == 5
