"""How long the local MT-Bench judge takes on the embedded default's workload, and what it scored.

    python benchmarks/judge_speed.py [--models 4] [--concurrency 2] [--threads N] [--out scores.json]

Judges the embedded world's MT-Bench subset (4 questions per category, both turns) as the main job does,
with SmolLM2-135M-Instruct served on loopback in expected mode and a fresh judgment cache, for ``--models``
answer sets (model k answers with the last 1/(k+1) of the world's reference answer, so no two models' answers
start alike). Prints the judging wall time and the server's CPU time (steadier than wall time on a shared
machine); ``--out`` writes every score, so two server versions can be compared judgment by judgment
(``--compare old.json``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from spin_bench.mtbench.cache import JudgmentCache
from spin_bench.mtbench.config import MTBenchConfig
from spin_bench.mtbench.data import DataRequest, open_mt_bench
from spin_bench.mtbench.evaluate import judge_answers
from spin_bench.mtbench.judge import Judge
from spin_bench.mtbench.judges import judge_for, local_model
from spin_bench.mtbench.local_judge import local_judge_server

JUDGE = "smollm2-135m-instruct"


def _tail(text: str, parts: int) -> str:
    words = text.split()
    return " ".join(words[len(words) - max(1, len(words) // parts):])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="the server's torch threads (default: torch's)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--compare", type=Path, default=None, help="scores of an earlier run: print the largest gap")
    args = parser.parse_args()
    data = open_mt_bench(DataRequest("embedded", 0)).subset(4)
    settings, _ = judge_for(MTBenchConfig(judge_local=JUDGE, concurrency=args.concurrency))
    scores: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch, \
            local_judge_server(local_model(JUDGE), settings.model, args.threads) as url:
        cache = JudgmentCache(Path(scratch) / "judgments.sqlite")
        judge = Judge(dataclasses.replace(settings, base_url=url), cache)
        started = time.perf_counter()
        for model in range(args.models):
            answers = {q.question_id: tuple(_tail(r, model + 1) for r in q.reference) for q in data.questions}
            for judged in judge_answers(judge, data, answers, f"model{model}"):
                scores[f"{model}/{judged.question_id}/{judged.turn}"] = judged.judgment.score
        seconds = time.perf_counter() - started
        cache.close()
    server = resource.getrusage(resource.RUSAGE_CHILDREN)  # the server, stopped with the block (includes its load)
    print(f"{len(scores)} judgments in {seconds:.1f} s wall ({1000 * seconds / len(scores):.0f} ms each), server CPU "
          f"{server.ru_utime + server.ru_stime:.1f} s, concurrency {args.concurrency}, threads {args.threads or 'default'}")
    if args.out:
        args.out.write_text(json.dumps(scores, indent=1, sort_keys=True))
    if args.compare:
        old = json.loads(args.compare.read_text())
        gap = max(abs(old[k] - scores[k]) for k in old)
        print(f"largest score difference against {args.compare}: {gap:.3g} over {len(old)} judgments")
    return 0


if __name__ == "__main__":
    sys.exit(main())
