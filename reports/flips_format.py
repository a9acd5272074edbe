"""`spin-bench compare --flips` output: the flips of each task and the most-moved MT-Bench questions, as text,
markdown or JSON.

Model text is hostile data in every format. Text: one line per field, every control and format character
(newline, ANSI escape, bidirectional override) written as a visible escape, so an answer cannot move the
cursor, recolour or clear a terminal; long fields are cut (prompts from the front, where the few-shot
examples are, answers at the end). Markdown: the same, with every ASCII punctuation character
backslash-escaped, so neither markdown nor raw HTML in an answer is rendered. JSON: the full texts, which
``json.dumps`` escapes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from reports.flips import FlippedItem, LabelFlips, TaskFlips
from reports.mt_bench_moves import MtBenchMoves
from reports.provenance import SettingDifference

PROMPT_CHARS = 240  # the end of a prompt: the question after its few-shot examples
TEXT_CHARS = 200  # a gold answer or a model's answer
_VISIBLE = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
_MARKDOWN_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character (CommonMark escapes)


def one_line(text: str, limit: int | None = TEXT_CHARS, *, keep_end: bool = False) -> str:
    """``text`` on one line with control/format characters escaped, cut to ``limit`` characters with "…"."""
    out = "".join(_VISIBLE.get(char) or (f"\\u{ord(char):04x}" if unicodedata.category(char) in
                                          ("Cc", "Cf", "Zl", "Zp") else char) for char in text)
    if limit is None or len(out) <= limit:
        return out
    return "…" + out[len(out) - limit + 1:] if keep_end else out[: limit - 1] + "…"


def markdown_text(text: str, limit: int | None = TEXT_CHARS, *, keep_end: bool = False) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", one_line(text, limit, keep_end=keep_end))


def _p(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if value >= 1e-3 else f"{value:.1e}"


def _counts(flips: TaskFlips) -> str:
    c = flips.comparison
    return (f"{len(flips.right_to_wrong)} right->wrong, {len(flips.wrong_to_right)} wrong->right "
            f"(McNemar on these {len(flips.right_to_wrong) + len(flips.wrong_to_right)} discordant pairs of "
            f"{c.result.n}: p {_p(c.result.p_value)}, Holm {_p(c.p_adjusted)})")


# ------------------------------------------------------------------ text


def flips_text(flips: LabelFlips) -> str:
    lines = [f"Flips, A = {one_line(flips.a_label)} -> B = {one_line(flips.b_label)} (on the documents the paired "
             "tests ran on; McNemar counts exactly these):"]
    for task_flips in flips.tasks:
        if not task_flips.listed:
            lines.append(f"{task_flips.task}: {task_flips.reason}")
            continue
        lines.append(f"{task_flips.task} ({task_flips.metric}): {_counts(task_flips)}")
        for name, keys, items in (("right -> wrong", task_flips.right_to_wrong, task_flips.right_to_wrong_shown),
                                  ("wrong -> right", task_flips.wrong_to_right, task_flips.wrong_to_right_shown)):
            if keys:
                lines.append(f"  {name}:")
                lines += [line for item in items for line in _item_text(item)]
                if len(items) < len(keys):
                    lines.append(f"    ... and {len(keys) - len(items)} more (--max-flips 0 lists all)")
    lines += _moves_text(flips.moves, flips.mt_bench_note, flips.mt_bench_differences)
    return "\n".join(lines)


def _item_text(item: FlippedItem) -> list[str]:
    return [f"    doc {one_line(item.doc)}",
            f"      prompt: {one_line(item.prompt, PROMPT_CHARS, keep_end=True)}",
            f"      gold:   {one_line(item.gold)}",
            f"      A:      {one_line(item.a_answer)}",
            f"      B:      {one_line(item.b_answer)}"]


def _moves_text(moves: MtBenchMoves | None, note: str | None, differences: Sequence[SettingDifference]) -> list[str]:
    if moves is None:
        return [f"MT-Bench: {one_line(note or '')}"]
    lines = [f"MT-Bench: the {len(moves.questions)} of {moves.compared} questions rated for both whose rating moved "
             f"most (judge A: {one_line(moves.a_judge)}; B: {one_line(moves.b_judge)}):"]
    for q in moves.questions:
        lines.append(f"  question {q.question_id} ({one_line(q.category)}): {q.a_rating:.2f} -> {q.b_rating:.2f} "
                     f"({q.change:+.2f})")
        for t in q.turns:
            lines += [f"    turn {t.turn}: {one_line(t.question, PROMPT_CHARS)}",
                      f"      A ({_score(t.a_score)}): {one_line(t.a_answer)}",
                      f"      B ({_score(t.b_score)}): {one_line(t.b_answer)}"]
    lines += [f"  MT-Bench setting that differs: {d.setting}: A {one_line(d.a)}, B {one_line(d.b)}" for d in differences]
    return lines


def _score(value: float | None) -> str:
    return "failed" if value is None else f"{value:.2f}"


# ------------------------------------------------------------------ markdown


def flips_markdown(label_flips: LabelFlips) -> str:
    a, b = markdown_text(label_flips.a_label), markdown_text(label_flips.b_label)
    flips, moves, mt_bench_note = label_flips.tasks, label_flips.moves, label_flips.mt_bench_note
    lines = [f"### Flips: {a} → {b}", "", "| Task | Metric | right → wrong | wrong → right | McNemar p | p (Holm) |",
             "|---|---|---:|---:|---:|---:|"]
    for f in flips:
        if f.listed:
            lines.append(f"| {markdown_text(f.task)} | {markdown_text(f.metric)} | {len(f.right_to_wrong)} | "
                         f"{len(f.wrong_to_right)} | {_p(f.comparison.result.p_value)} | {_p(f.comparison.p_adjusted)} |")
    lines += ["", *(f"{markdown_text(f.task)}: {markdown_text(f.reason)}." for f in flips if not f.listed)]
    for f in (f for f in flips if f.listed):
        for name, keys, items in (("right → wrong", f.right_to_wrong, f.right_to_wrong_shown),
                                  ("wrong → right", f.wrong_to_right, f.wrong_to_right_shown)):
            if items:
                lines += ["", f"#### {markdown_text(f.task)}: {name} ({len(items)} of {len(keys)} shown)", ""]
                lines += [f"- doc {markdown_text(i.doc)}: prompt “{markdown_text(i.prompt, PROMPT_CHARS, keep_end=True)}”; "
                          f"gold “{markdown_text(i.gold)}”; {a}: “{markdown_text(i.a_answer)}”; "
                          f"{b}: “{markdown_text(i.b_answer)}”" for i in items]
    if moves is not None:
        lines += ["", f"#### MT-Bench: the {len(moves.questions)} of {moves.compared} questions whose rating moved most", ""]
        lines += [f"- question {q.question_id} ({markdown_text(q.category)}): {q.a_rating:.2f} → {q.b_rating:.2f} "
                  f"({q.change:+.2f}); " + "; ".join(
                      f"turn {t.turn} “{markdown_text(t.question)}”: {a} ({_score(t.a_score)}) “{markdown_text(t.a_answer)}”, "
                      f"{b} ({_score(t.b_score)}) “{markdown_text(t.b_answer)}”" for t in q.turns)
                  for q in moves.questions]
        lines += [f"- MT-Bench setting that differs: {markdown_text(d.setting)}: {a} {markdown_text(d.a)}, "
                  f"{b} {markdown_text(d.b)}" for d in label_flips.mt_bench_differences]
    elif mt_bench_note:
        lines += ["", f"MT-Bench: {markdown_text(mt_bench_note)}."]
    return "\n".join(lines)


# ------------------------------------------------------------------ JSON


def flips_document(label_flips: LabelFlips) -> dict[str, Any]:
    """The flips as JSON-ready data (full texts; ``json.dumps`` escapes them)."""
    moves, mt_bench_note = label_flips.moves, label_flips.mt_bench_note
    tasks = []
    for f in label_flips.tasks:
        entry: dict[str, Any] = {"task": f.task, "metric": f.metric, "filter": f.filter, "reason": f.reason}
        if f.listed:
            entry |= {"right_to_wrong": len(f.right_to_wrong), "wrong_to_right": len(f.wrong_to_right),
                      "n": f.comparison.result.n, "mcnemar_p": f.comparison.result.p_value,
                      "p_adjusted": f.comparison.p_adjusted,
                      "items": {"right_to_wrong": [vars(i) for i in f.right_to_wrong_shown],
                                "wrong_to_right": [vars(i) for i in f.wrong_to_right_shown]}}
        tasks.append(entry)
    document: dict[str, Any] = {"a": label_flips.a_label, "b": label_flips.b_label, "tasks": tasks, "mt_bench": None,
                                "mt_bench_note": mt_bench_note,
                                "mt_bench_settings_differ": [vars(d) | {"tasks": list(d.tasks)}
                                                             for d in label_flips.mt_bench_differences]}
    if moves is not None:
        document["mt_bench"] = {
            "compared": moves.compared, "a_judge": moves.a_judge, "b_judge": moves.b_judge,
            "questions": [{"question_id": q.question_id, "category": q.category, "a_rating": q.a_rating,
                           "b_rating": q.b_rating, "change": q.change, "turns": [vars(t) for t in q.turns]}
                          for q in moves.questions]}
    return document
