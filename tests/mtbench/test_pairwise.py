"""Pairwise MT-Bench against real loopback HTTP judges: FastChat's pulled pairwise prompts, both orders
asked for every (question, turn), scripted verdicts (A, B, tie, none, 500s) turned into the hand-computed
win rate and interval, every verdict in the store with its judge and mode, and reruns that ask nothing new."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from spin_bench.core.errors import UserError
from spin_bench.data.fastchat import Question
from spin_bench.inference.models import ModelRef
from spin_bench.mtbench.answers import AnswerSettings, answer_key
from spin_bench.mtbench.config import PairwiseConfig
from spin_bench.mtbench.dataset import MTBenchData
from spin_bench.mtbench.judge import JudgeSettings
from spin_bench.mtbench.pairwise import (
    PairwisePlan,
    evaluate_pairwise,
    pair_prompts,
    plan_pairs,
)
from spin_bench.mtbench.protocol import JudgeMode
from spin_bench.mtbench.win_rates import length_controlled
from spin_bench.store import ResultsStore
from tests.mtbench.judge_servers import ScriptedJudge, completion, error, prefill

MULTI_TURN = "<|The Start of Assistant A's Conversation with User|>"
# Question 2 is a math question: FastChat judges it with pair-math-v1 against its reference answer.
QUESTIONS = tuple(Question(qid, "math" if qid == 2 else "writing", (f"Q{qid} first?", f"Q{qid} second?"),
                           (f"REF{qid}-1", f"REF{qid}-2") if qid == 2 else ()) for qid in range(1, 6))
# What the scripted judge says, by question and turn, about (model, baseline), whichever order it is asked in:
#   better: the model or the baseline is named, in either order; "A"/"B": position bias, that letter always;
#   "C": a tie; "none": no verdict when the baseline is assistant A (that game is dropped).
SCRIPT = {(1, 1): "model", (1, 2): "baseline", (2, 1): "C", (2, 2): "C", (3, 1): "A", (3, 2): "A",
          (4, 1): "B", (4, 2): "B", (5, 1): "model", (5, 2): "none"}
# By FastChat's rule: q1 turn 1 won, turn 2 lost; q2-q4 ties (C, then two disagreements); q5 turn 1 won,
# turn 2 dropped: 9 games, (2 wins + 6 ties / 2) / 9, and the interval enumerated in test_pairwise_stats.
WIN_RATE, INTERVAL = 5 / 9, (0.5, 5 / 7)


def _answers(tag: str, extra: int = 0) -> dict[int, tuple[str, str]]:
    return {q.question_id: (f"{tag}{q.question_id}t1" + "x" * extra * q.question_id, f"{tag}{q.question_id}t2")
            for q in QUESTIONS}


def _call(body: dict) -> tuple[int, int, bool]:
    """(question, turn, model is assistant A) of a pairwise request, read from its rendered prompt."""
    user = body["messages"][1]["content"]
    qid = int(re.search(r"Q(\d) first\?", user).group(1))
    return qid, 2 if MULTI_TURN in user else 1, user.index(f"MODEL{qid}t1") < user.index(f"BASE{qid}t1")


def faithful_judge(body: dict):
    qid, turn, model_first = _call(body)
    said = SCRIPT[(qid, turn)]
    if said == "none":
        return completion("Both are fine." if not model_first else "[[A]]")
    letter = {"model": "A" if model_first else "B", "baseline": "B" if model_first else "A"}.get(said, said)
    return completion(f"Some explanation. [[{letter}]]")


@pytest.fixture
def world(tmp_path):
    """A store, two models whose answers are already on disk, the pulled pairwise prompts, a plan."""
    data = MTBenchData(questions=QUESTIONS, prompts={}, source={"origin": "test"})
    settings = AnswerSettings(max_new_tokens=16)
    models = []
    for name, tag, extra in (("sft", "BASE", 0), ("iter2", "MODEL", 3)):
        ref = ModelRef(path=f"/nonexistent/{name}", label=f"run/{name}", model_hash=f"hash-{name}",
                       extra={"checkpoint": name, "run": "runs/x"})
        path = tmp_path / "work" / "mt-bench-answers" / f"{answer_key(ref.model_hash, data, settings)}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        answers = {str(k): list(v) for k, v in _answers(tag, extra).items()}
        path.write_text(json.dumps({"complete": True, "answers": answers}))
        models.append(ref)
    config = PairwiseConfig(baseline="sft", checkpoints=("iter*",), resamples=20_000, seed=7)
    plan = PairwisePlan(plan_pairs(models, config), pair_prompts(None), config)
    store = ResultsStore(tmp_path / "store.db")
    yield {"data": data, "settings": settings, "plan": plan, "store": store, "tmp": tmp_path, "models": models}
    store.close()


def _run(world, server, mode=JudgeMode.FAITHFUL, retries=1, force=False, model=None):
    judge = JudgeSettings(base_url=server.url, model=model or f"judge-{mode.value}", mode=mode,
                          api_key_env="SPIN_TEST_KEY", concurrency=3, timeout_s=10.0, max_retries=retries)
    starts = []

    @contextlib.contextmanager
    def start():
        starts.append(1)
        yield judge

    outcomes = evaluate_pairwise(world["plan"], world["data"], world["settings"], judge, start, world["store"],
                                 world["tmp"] / "results", world["tmp"] / "work", force)
    return outcomes, len(starts)


def _values(outcome) -> dict[str, float]:
    return {s.metric: s.value for s in outcome.scores}


def test_pulled_prompts_and_both_orders_are_asked(world):
    prompts = world["plan"].prompts
    assert sorted(prompts) == ["pair-math-v1", "pair-math-v1-multi-turn", "pair-v2", "pair-v2-multi-turn"]
    assert all(p.output_format == "[[A]]" for p in prompts.values())
    with ScriptedJudge(faithful_judge) as server:
        (outcome,), starts = _run(world, server)
    assert starts == 1 and len(server.requests) == 20  # 5 questions x 2 turns x 2 orders
    calls = sorted(_call(body) for body in server.requests)
    assert calls == sorted((q, t, first) for q in range(1, 6) for t in (1, 2) for first in (True, False))
    for body in server.requests:
        qid, turn, _ = _call(body)
        name = ("pair-math-v1" if qid == 2 else "pair-v2") + ("-multi-turn" if turn == 2 else "")
        assert body["messages"][0] == {"role": "system", "content": prompts[name].system_prompt}
        assert body["temperature"] == 0.0 and body["max_tokens"] == 2048 and body["model"] == "judge-faithful"
        assert ("REF2-1" in body["messages"][1]["content"]) == (qid == 2)  # the reference reaches the math prompt
    values = _values(outcome)
    assert values["win_rate"] == pytest.approx(WIN_RATE)
    assert (values["win_rate_ci_low"], values["win_rate_ci_high"]) == pytest.approx(INTERVAL)
    assert (values["wins"], values["ties"], values["losses"], values["failed"]) == (2, 6, 1, 1)
    assert values["lc_win_rate_ci_low"] <= values["lc_win_rate"] <= values["lc_win_rate_ci_high"]


def test_verdicts_are_stored_with_judge_and_mode(world):
    with ScriptedJudge(faithful_judge) as server:
        (outcome,), _ = _run(world, server)
    verdicts = world["store"].pairwise_verdicts(label="run/iter2")
    assert len(verdicts) == 10 and set(verdicts["judge_model"]) == {"judge-faithful"}
    assert set(verdicts["judge_mode"]) == {"faithful"} and set(verdicts["baseline"]) == {"run/sft"}
    by_game = {(r.question_id, r.turn): r for r in verdicts.itertuples()}
    assert (by_game[1, 1].verdict_model_first, by_game[1, 1].verdict_baseline_first, by_game[1, 1].outcome) == \
        ("A", "B", "win")
    assert (by_game[3, 1].verdict_model_first, by_game[3, 1].verdict_baseline_first, by_game[3, 1].outcome) == \
        ("A", "A", "tie")
    assert by_game[5, 2].outcome == "error" and by_game[5, 2].verdict_baseline_first == "error"
    assert np.isnan(by_game[5, 2].p_win)
    # The answer lengths are recorded, and the LC win rate can be recomputed from the store alone.
    played = verdicts[verdicts["outcome"] != "error"]
    assert by_game[4, 1].model_length == len("MODEL4t1") + 12 and by_game[4, 1].baseline_length == len("BASE4t1")
    lc, _ = length_controlled((played["p_win"] + played["p_tie"] / 2).to_numpy(), played["model_length"].to_numpy(),
                              played["baseline_length"].to_numpy())
    assert _values(outcome)["lc_win_rate"] == pytest.approx(lc)
    evaluation = world["store"].evaluations(suite="mt_bench_pairwise").iloc[0]
    assert evaluation["judge"]["mode"] == "faithful" and evaluation["judge"]["pairwise"] is True
    assert evaluation["extra"]["baseline"] == "run/sft" and evaluation["label"] == "run/iter2"


def test_a_rerun_asks_the_judge_nothing_new(world):
    with ScriptedJudge(faithful_judge) as server:
        (first,), _ = _run(world, server)
        (again,), starts = _run(world, server)  # from the store: the judge is not even started
        assert again.cached and starts == 0 and len(server.requests) == 20
        (forced,), starts = _run(world, server, force=True)  # evaluated again: every call from the cache
        assert starts == 1 and len(server.requests) == 20
    assert _values(forced) == pytest.approx(_values(first), nan_ok=True)


def test_500s_are_retried_and_a_failed_pair_resumes(world):
    flaky = {"left": 1}
    broken = {(1, 2, True)}

    def judge(body):
        if _call(body) in broken:
            return error(500, "judge down")
        if flaky["left"]:  # one transient 500: the client's retry gets the answer
            flaky["left"] -= 1
            return error(503)
        return faithful_judge(body)

    with ScriptedJudge(judge) as server:
        with pytest.raises(UserError, match=r"1 game\(s\) failed.*question 1 turn 2.*rerun to ask only these"):
            _run(world, server, retries=1)
        assert world["store"].evaluations(suite="mt_bench_pairwise").empty  # nothing half-stored
        asked = len(server.requests)
        assert asked == 20 + 1 + 1  # every call once, one transient retry, the broken call's retry
        broken.clear()
        (outcome,), _ = _run(world, server)
        assert len(server.requests) == asked + 1  # only the failed call is asked again
    assert _values(outcome)["win_rate"] == pytest.approx(WIN_RATE)


def test_expected_mode_reads_the_verdict_distribution(world):
    def judge(body):
        assert prefill(body) == "[[" and body["continue_final_message"] is True and body["max_tokens"] == 1
        assert body["logprobs"] is True and body["top_logprobs"] == 20
        _, _, model_first = _call(body)
        return completion("A", {"A": 0.7, "B": 0.2, "C": 0.1} if model_first else {"A": 0.3, "B": 0.6, "C": 0.1})

    with ScriptedJudge(judge) as server:
        (outcome,), _ = _run(world, server, mode=JudgeMode.EXPECTED)
    assert len(server.requests) == 20
    values = _values(outcome)
    # Every game: P(win) = 0.7 * 0.6, P(loss) = 0.2 * 0.3, so (0.42 + 0.52 / 2) per game.
    assert values["win_rate"] == pytest.approx(0.68) and values["wins"] == pytest.approx(10 * 0.42)
    verdicts = world["store"].pairwise_verdicts(label="run/iter2")
    assert set(verdicts["judge_mode"]) == {"expected"} and verdicts["p_win"].to_numpy() == pytest.approx(0.42)
    assert set(verdicts["outcome"]) == {"tie"}  # the most probable outcome (0.52)


def test_a_missing_baseline_fails_before_any_work(world):
    with pytest.raises(UserError, match="baseline 'dpo' is not among the models"):
        plan_pairs(world["models"], PairwiseConfig(baseline="dpo"))
    with pytest.raises(UserError, match="no model matches"):
        plan_pairs(world["models"], PairwiseConfig(checkpoints=("iter9",)))


HOSTILE_JUDGE = "judge<script>document.body.setAttribute('data-pwned','judge')</script>"
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.slow
@pytest.mark.skipif(BROWSER is None, reason="no chromium binary on PATH (apt-get install -y chromium)")
def test_report_shows_the_win_rate_table_in_chromium(world, tmp_path):
    from reports.report import build_report

    with ScriptedJudge(faithful_judge) as server:
        _run(world, server, model=HOSTILE_JUDGE)
    out = tmp_path / "report.html"
    build_report(world["store"], None, "run", out, n_boot=200)
    command = [BROWSER, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-extensions",
               f"--user-data-dir={tmp_path / 'profile'}", "--host-resolver-rules=MAP * ~NOTFOUND",
               "--proxy-server=127.0.0.1:9", "--virtual-time-budget=5000", "--dump-dom", out.as_uri()]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False).stdout
    section = dom[dom.index('id="win_rates"'):]
    section = section[: section.index("</section>")]
    row = re.sub(r"<[^>]+>", " ", section[section.index("iter2 vs sft"):])
    # The row names the judge (escaped, its script never ran) and mode, and shows the hand-computed numbers.
    assert "(faithful)" in row and "&lt;script&gt;" in row and 'data-pwned="' not in dom
    assert "9 " in row and "2 / 6 / 1" in row and "55.6 [50.0, 71.4]" in row
    assert "1 without a verdict" in row and "bootstrap over questions, 20000 resamples, seed 7" in section
