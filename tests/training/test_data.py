"""SFT and preference data: the UltraChat / UltraFeedback schemas from local files, sampling, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spin_bench.core.errors import DataError, UserError
from training.config import DataSource
from training.data import PreferencePair, PromptResponse, load_preferences, load_sft


def _conversation(prompt: str, answer: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]


def _sft_row(i: int, **extra) -> dict:
    prompt = f"Question number {i}?"
    return {"prompt": prompt, "prompt_id": f"id{i}", "messages": _conversation(prompt, f"Answer {i}."), **extra}


def _pref_row(i: int) -> dict:
    prompt = f"Which is better, {i}?"
    return {"prompt": prompt, "prompt_id": f"p{i}", "chosen": _conversation(prompt, f"good {i}"),
            "rejected": _conversation(prompt, f"bad {i}"), "score_chosen": 9.0, "score_rejected": 2.0}


def _write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _write_parquet(path: Path, rows) -> Path:
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def _sft(path, num_samples=None, seed=0):
    return load_sft(DataSource(source=str(path), num_samples=num_samples), seed)


def _prefs(path, num_samples=None, seed=0):
    return load_preferences(DataSource(source=str(path), num_samples=num_samples), seed)


def _data_error(loader, path, *args, **kwargs) -> str:
    with pytest.raises(DataError) as info:
        loader(path, *args, **kwargs)
    message = str(info.value)
    assert "\n" not in message, message
    assert str(path) in message, message
    return message


# ------------------------------------------------------------------ good SFT files


@pytest.mark.parametrize("writer", [_write_jsonl, _write_parquet], ids=["jsonl", "parquet"])
def test_sft_file_loads(tmp_path, writer):
    rows = [_sft_row(i) for i in range(5)]
    path = writer(tmp_path / ("sft" + (".jsonl" if writer is _write_jsonl else ".parquet")), rows)
    loaded = _sft(path)
    assert len(loaded.rows) == 5
    by_id = {r.prompt_id: r for r in loaded.rows}
    assert by_id["id3"] == PromptResponse(prompt_id="id3", prompt="Question number 3?", response="Answer 3.", row=4)
    assert all(isinstance(r, PromptResponse) for r in loaded.rows)
    prov = loaded.provenance
    assert prov["source"] == str(path)
    assert prov["rows_available"] == 5 and prov["rows_used"] == 5 and prov["duplicates_dropped"] == 0
    assert prov["sample_seed"] == 0
    assert len(prov["sha256"]) == 64


def test_sft_json_list_file_loads(tmp_path):
    path = tmp_path / "sft.json"
    path.write_text(json.dumps([_sft_row(i) for i in range(3)]), encoding="utf-8")
    assert sorted(r.prompt_id for r in _sft(path).rows) == ["id0", "id1", "id2"]


def test_first_user_turn_and_the_answer_right_after_it(tmp_path):
    messages = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "First?"},
        {"role": "assistant", "content": "First answer."},
        {"role": "user", "content": "Second?"},
        {"role": "assistant", "content": "Second answer."},
    ]
    path = _write_jsonl(tmp_path / "multi.jsonl", [{"prompt": "First?", "prompt_id": "m", "messages": messages}])
    (row,) = _sft(path).rows
    assert (row.prompt, row.response) == ("First?", "First answer.")


def test_prompt_id_defaults_to_a_hash_of_the_prompt(tmp_path):
    rows = [{"prompt": "Hi?", "messages": _conversation("Hi?", "Hello.")}]
    (row,) = _sft(_write_jsonl(tmp_path / "noid.jsonl", rows)).rows
    assert row.prompt_id and len(row.prompt_id) == 16
    other = [{"prompt": "Hi?", "messages": _conversation("Hi?", "Another answer.")}]
    (again,) = _sft(_write_jsonl(tmp_path / "noid2.jsonl", other)).rows
    assert again.prompt_id == row.prompt_id  # the id depends on the prompt alone


def test_blank_lines_in_jsonl_are_skipped(tmp_path):
    path = tmp_path / "blank.jsonl"
    path.write_text("\n" + json.dumps(_sft_row(0)) + "\n\n   \n" + json.dumps(_sft_row(1)) + "\n\n", encoding="utf-8")
    assert len(_sft(path).rows) == 2


def test_tilde_path_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    _write_jsonl(tmp_path / "home.jsonl", [_sft_row(0)])
    loaded = load_sft(DataSource(source="~/home.jsonl"), 0)
    assert loaded.provenance["source"] == str(tmp_path / "home.jsonl")


# ------------------------------------------------------------------ sampling


@pytest.fixture
def twenty(tmp_path) -> Path:
    return _write_jsonl(tmp_path / "twenty.jsonl", [_sft_row(i) for i in range(20)])


def test_seeded_sampling_is_deterministic(twenty):
    first = [r.prompt_id for r in _sft(twenty, num_samples=8, seed=7).rows]
    again = [r.prompt_id for r in _sft(twenty, num_samples=8, seed=7).rows]
    assert first == again
    assert len(set(first)) == 8
    other = [r.prompt_id for r in _sft(twenty, num_samples=8, seed=8).rows]
    assert other != first


def test_seeded_sampling_is_nested(twenty):
    for seed in (0, 1, 42):
        four = [r.prompt_id for r in _sft(twenty, num_samples=4, seed=seed).rows]
        eight = [r.prompt_id for r in _sft(twenty, num_samples=8, seed=seed).rows]
        every = [r.prompt_id for r in _sft(twenty, seed=seed).rows]
        assert eight[:4] == four
        assert every[:8] == eight
        assert sorted(every) == sorted(f"id{i}" for i in range(20))


def test_sampling_is_a_shuffle_not_the_file_order(twenty):
    rows = _sft(twenty, seed=0).rows
    assert [r.row for r in rows] != list(range(1, 21))


def test_sample_provenance(twenty):
    prov = _sft(twenty, num_samples=5, seed=3).provenance
    assert prov["rows_available"] == 20 and prov["rows_used"] == 5 and prov["sample_seed"] == 3


def test_num_samples_equal_to_the_data_is_allowed(twenty):
    assert len(_sft(twenty, num_samples=20).rows) == 20


# ------------------------------------------------------------------ duplicates


def test_duplicate_prompt_ids_are_dropped_and_counted(tmp_path):
    rows = [_sft_row(0), _sft_row(1), _sft_row(0), _sft_row(2), _sft_row(1), _sft_row(0)]
    rows[2]["messages"][1]["content"] = "a later, different answer"
    loaded = _sft(_write_jsonl(tmp_path / "dups.jsonl", rows))
    assert sorted(r.prompt_id for r in loaded.rows) == ["id0", "id1", "id2"]
    assert loaded.provenance["duplicates_dropped"] == 3
    assert loaded.provenance["rows_available"] == 3
    first = next(r for r in loaded.rows if r.prompt_id == "id0")
    assert first.row == 1 and first.response == "Answer 0."  # the first occurrence wins


def test_duplicate_prompts_without_ids_are_dropped(tmp_path):
    rows = [{"prompt": "Same?", "messages": _conversation("Same?", f"answer {i}")} for i in range(3)]
    loaded = _sft(_write_jsonl(tmp_path / "same.jsonl", rows))
    assert len(loaded.rows) == 1 and loaded.provenance["duplicates_dropped"] == 2


def test_num_samples_counts_unique_rows(tmp_path):
    rows = [_sft_row(0), _sft_row(0), _sft_row(1)]
    message = _data_error(_sft, _write_jsonl(tmp_path / "d.jsonl", rows), num_samples=3)
    assert "num_samples=3" in message and "only 2 rows" in message


# ------------------------------------------------------------------ preferences


@pytest.mark.parametrize("writer", [_write_jsonl, _write_parquet], ids=["jsonl", "parquet"])
def test_preferences_with_message_lists(tmp_path, writer):
    suffix = ".jsonl" if writer is _write_jsonl else ".parquet"
    path = writer(tmp_path / f"prefs{suffix}", [_pref_row(i) for i in range(4)])
    loaded = _prefs(path)
    assert len(loaded.rows) == 4
    by_id = {r.prompt_id: r for r in loaded.rows}
    assert by_id["p2"] == PreferencePair(prompt_id="p2", prompt="Which is better, 2?", chosen="good 2",
                                         rejected="bad 2", row=3)


def test_preferences_with_plain_strings(tmp_path):
    rows = [{"prompt": "Q?", "chosen": "yes", "rejected": "no"},
            {"prompt": "R?", "prompt_id": "r", "chosen": "up", "rejected": [{"role": "user", "content": "R?"},
                                                                            {"role": "assistant", "content": "down"}]}]
    loaded = _prefs(_write_jsonl(tmp_path / "plain.jsonl", rows))
    pairs = {r.prompt: (r.chosen, r.rejected) for r in loaded.rows}
    assert pairs == {"Q?": ("yes", "no"), "R?": ("up", "down")}


def test_preferences_sampling_is_nested(tmp_path):
    path = _write_jsonl(tmp_path / "p.jsonl", [_pref_row(i) for i in range(12)])
    three = [r.prompt_id for r in _prefs(path, num_samples=3, seed=5).rows]
    six = [r.prompt_id for r in _prefs(path, num_samples=6, seed=5).rows]
    assert six[:3] == three


# ------------------------------------------------------------------ embedded sources


def test_embedded_sft_loads():
    loaded = load_sft(DataSource(source="embedded:sft", num_samples=16), seed=42)
    assert len(loaded.rows) == 16
    assert all(isinstance(r, PromptResponse) and r.prompt and r.response for r in loaded.rows)
    assert loaded.provenance["source"] == "embedded:sft"
    assert loaded.provenance["world_seed"] == 0
    again = load_sft(DataSource(source="embedded:sft", num_samples=16), seed=42)
    assert again.rows == loaded.rows and again.provenance == loaded.provenance


def test_embedded_preferences_load():
    loaded = load_preferences(DataSource(source="embedded:preferences", num_samples=8), seed=1)
    assert len(loaded.rows) == 8
    assert all(isinstance(r, PreferencePair) and r.chosen != r.rejected for r in loaded.rows)
    assert loaded.provenance["source"] == "embedded:preferences"


def test_embedded_world_seed_changes_the_data():
    a = load_sft(DataSource(source="embedded:spin", num_samples=4), 0, embedded_seed=0)
    b = load_sft(DataSource(source="embedded:spin", num_samples=4), 0, embedded_seed=1)
    assert a.provenance["sha256"] != b.provenance["sha256"]


def test_unknown_embedded_split():
    with pytest.raises(DataError) as info:
        load_sft(DataSource(source="embedded:nosuch"), 0)
    message = str(info.value)
    assert message.startswith("embedded:nosuch: ")
    assert "sft" in message and "preferences" in message
    assert "\n" not in message


def test_embedded_num_samples_too_large():
    with pytest.raises(DataError, match=r"embedded:heldout: num_samples=100000"):
        load_sft(DataSource(source="embedded:heldout", num_samples=100000), 0)


# ------------------------------------------------------------------ bad SFT rows


BAD_SFT_ROWS = [
    # (description, row placed second in the file, words expected in the message)
    ("missing messages", {"prompt": "Q?"}, "missing column(s) messages"),
    ("missing prompt", {"messages": _conversation("Q?", "A.")}, "missing column(s) prompt"),
    ("missing both", {"text": "Q?"}, "missing column(s) prompt, messages"),
    ("empty prompt", {"prompt": "  ", "messages": _conversation("  ", "A.")}, "prompt is empty"),
    ("prompt not a string", {"prompt": 5, "messages": _conversation("5", "A.")}, "prompt must be a string"),
    ("non-string content", {"prompt": "Q?", "messages": [{"role": "user", "content": "Q?"},
                                                          {"role": "assistant", "content": 7}]},
     "messages[1].content must be a string, got int"),
    ("empty answer", {"prompt": "Q?", "messages": _conversation("Q?", "")}, "messages[1].content is empty"),
    ("no assistant turn", {"prompt": "Q?", "messages": [{"role": "user", "content": "Q?"}]},
     "no user turn followed by an assistant turn"),
    ("user then user", {"prompt": "Q?", "messages": [{"role": "user", "content": "Q?"},
                                                      {"role": "user", "content": "again"}]},
     "messages[1] must be the assistant's answer"),
    ("assistant only", {"prompt": "Q?", "messages": [{"role": "assistant", "content": "A."}]},
     "no user turn followed by an assistant turn"),
    ("messages not a list", {"prompt": "Q?", "messages": "Q? A."}, "messages must be a list"),
    ("message without role", {"prompt": "Q?", "messages": [{"content": "Q?"}, {"role": "assistant", "content": "A"}]},
     "messages[0] must be an object with role and content"),
    ("prompt mismatch", {"prompt": "Q?", "messages": _conversation("A different question?", "A.")},
     "prompt does not match the first user message"),
    ("row not an object", ["Q?", "A."], "expected an object"),
]


@pytest.mark.parametrize(("row", "words"), [(r, w) for _, r, w in BAD_SFT_ROWS], ids=[d for d, _, _ in BAD_SFT_ROWS])
def test_bad_sft_row_in_jsonl(tmp_path, row, words):
    path = _write_jsonl(tmp_path / "bad.jsonl", [_sft_row(0), row, _sft_row(2)])
    message = _data_error(_sft, path)
    assert message.startswith(f"{path}: row 2: ")
    assert words in message


PARQUET_BAD_ROWS = [(d, r, w) for d, r, w in BAD_SFT_ROWS
                    if d in ("empty prompt", "no assistant turn", "prompt mismatch", "user then user", "empty answer")]


@pytest.mark.parametrize(("row", "words"), [(r, w) for _, r, w in PARQUET_BAD_ROWS],
                         ids=[d for d, _, _ in PARQUET_BAD_ROWS])
def test_bad_sft_row_in_parquet(tmp_path, row, words):
    path = _write_parquet(tmp_path / "bad.parquet", [_sft_row(0), _sft_row(1), row])
    message = _data_error(_sft, path)
    assert message.startswith(f"{path}: row 3: ")
    assert words in message


def test_missing_column_in_parquet(tmp_path):
    path = _write_parquet(tmp_path / "nocol.parquet", [{"prompt": "Q?", "text": "A."}])
    message = _data_error(_sft, path)
    assert message.startswith(f"{path}: row 1: missing column(s) messages")


def test_sft_loader_on_preference_data_names_the_missing_column(tmp_path):
    path = _write_jsonl(tmp_path / "prefs.jsonl", [_pref_row(0)])
    assert "missing column(s) messages" in _data_error(_sft, path)


# ------------------------------------------------------------------ bad preference rows


BAD_PREF_ROWS = [
    ("missing rejected", {"prompt": "Q?", "chosen": "a"}, "missing column(s) rejected"),
    ("empty prompt", {"prompt": "", "chosen": "a", "rejected": "b"}, "prompt is empty"),
    ("empty chosen", {"prompt": "Q?", "chosen": " ", "rejected": "b"}, "chosen is empty"),
    ("number rejected", {"prompt": "Q?", "chosen": "a", "rejected": 3}, "rejected: messages must be a list"),
    ("chosen without assistant", {"prompt": "Q?", "chosen": [{"role": "user", "content": "Q?"}], "rejected": "b"},
     "chosen: messages has no user turn followed by an assistant turn"),
    ("non-string content", {"prompt": "Q?", "chosen": "a", "rejected": [{"role": "user", "content": "Q?"},
                                                                         {"role": "assistant", "content": None}]},
     "rejected: messages[1].content must be a string"),
]


@pytest.mark.parametrize(("row", "words"), [(r, w) for _, r, w in BAD_PREF_ROWS], ids=[d for d, _, _ in BAD_PREF_ROWS])
def test_bad_preference_row(tmp_path, row, words):
    path = _write_jsonl(tmp_path / "bad.jsonl", [_pref_row(0), _pref_row(1), row])
    message = _data_error(_prefs, path)
    assert message.startswith(f"{path}: row 3")
    assert words in message


# ------------------------------------------------------------------ bad files


def test_non_utf8_bytes_in_a_jsonl_line(tmp_path):
    path = tmp_path / "latin1.jsonl"
    good = json.dumps(_sft_row(0)).encode()
    bad = json.dumps(_sft_row(1)).encode().replace(b"Answer 1.", b"R\xe9ponse 1.")
    path.write_bytes(good + b"\n" + good.replace(b"id0", b"idx") + b"\n" + bad + b"\n")
    message = _data_error(_sft, path)
    assert message.startswith(f"{path}: line 3: ")
    assert "UTF-8" in message


@pytest.mark.parametrize("loader", [_sft, _prefs])
def test_invalid_json_line(tmp_path, loader):
    path = tmp_path / "broken.jsonl"
    path.write_text(json.dumps(_sft_row(0)) + "\n" + '{"prompt": "Q?", "messages": [\n', encoding="utf-8")
    message = _data_error(loader, path)
    assert message.startswith(f"{path}: line 2: invalid JSON")


def test_invalid_json_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("[{]", encoding="utf-8")
    assert "invalid JSON" in _data_error(_sft, path)


def test_json_file_that_is_not_a_list(tmp_path):
    path = tmp_path / "obj.json"
    path.write_text(json.dumps(_sft_row(0)), encoding="utf-8")
    assert "expected a JSON list of rows" in _data_error(_sft, path)


@pytest.mark.parametrize(("name", "content"), [("empty.jsonl", b""), ("blank.jsonl", b"\n \n\t\n"),
                                               ("empty.json", b"")])
@pytest.mark.parametrize("loader", [_sft, _prefs])
def test_empty_file(tmp_path, name, content, loader):
    path = tmp_path / name
    path.write_bytes(content)
    assert "empty" in _data_error(loader, path)


def test_empty_json_list(tmp_path):
    path = tmp_path / "none.json"
    path.write_text("[]", encoding="utf-8")
    assert "no rows" in _data_error(_sft, path)


def test_empty_parquet(tmp_path):
    path = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"prompt": pa.array([], pa.string())}), path)
    assert "empty" in _data_error(_sft, path)


@pytest.mark.parametrize("name", ["missing.jsonl", "missing.parquet", "missing.json", "sub/missing.jsonl"])
@pytest.mark.parametrize("loader", [_sft, _prefs])
def test_nonexistent_path(tmp_path, name, loader):
    assert "no such file" in _data_error(loader, tmp_path / name)


def test_directory_with_a_data_suffix(tmp_path):
    path = tmp_path / "dir.jsonl"
    path.mkdir()
    assert "is a directory" in _data_error(_sft, path)


def test_num_samples_larger_than_the_data(tmp_path):
    path = _write_jsonl(tmp_path / "three.jsonl", [_sft_row(i) for i in range(3)])
    message = _data_error(_sft, path, num_samples=4)
    assert "num_samples=4" in message and "only 3 rows" in message
    message = _data_error(_prefs, _write_jsonl(tmp_path / "p.jsonl", [_pref_row(0)]), num_samples=2)
    assert "num_samples=2" in message


@pytest.mark.parametrize("content", [b"this is not parquet\n" * 5, b"hi", b"PAR1 but then nothing else PAR"])
def test_text_file_named_parquet(tmp_path, content):
    path = tmp_path / "fake.parquet"
    path.write_bytes(content)
    assert "not a readable Parquet file" in _data_error(_sft, path)


def test_data_error_is_a_user_error():
    assert issubclass(DataError, UserError)
