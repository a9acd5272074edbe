"""`spin-bench track`: copy the paper metrics from the results store into W&B (offline), MLflow or TensorBoard."""

from __future__ import annotations

import argparse
import fnmatch
from pathlib import Path
from typing import Any

from reports.trackers import (  # a light module: the trackers load when they log
    PROJECT,
    TRACKERS,
)
from spin_bench.cli.common import add_store_argument, existing_store
from spin_bench.core.errors import UserError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "track", help="log the stored benchmark scores to W&B (offline), MLflow or TensorBoard",
        description="Copy each task's paper metric from the results store into a tracker, without network: a "
        "SPIN run's sft/iter<t> labels become one tracker run with step 0 = SFT and step t+1 = iter<t>; every "
        "other label (baselines) becomes its own run at step 0. Needs the tracker's extra, e.g. "
        "pip install 'spin-bench[wandb]'.")
    parser.add_argument("--to", choices=TRACKERS, required=True, help="the tracker")
    parser.add_argument("--dest", type=Path, required=True, metavar="DIR",
                        help="where the tracker writes: W&B offline runs, mlflow.db, or TensorBoard event files")
    parser.add_argument("--label", default="*", help="fnmatch pattern on labels, e.g. 'embedded/*' (default: all)")
    add_store_argument(parser)
    parser.add_argument("--run-name", default=PROJECT, help=f"prefix of the tracker runs' names (default: {PROJECT})")
    parser.set_defaults(handler=handle_track)


def handle_track(args: argparse.Namespace) -> int:
    from reports.trackers import log_scores

    with existing_store(args.store) as store:
        known = store.evaluations()["label"].drop_duplicates().astype(str).tolist()
        labels = [label for label in known if fnmatch.fnmatchcase(label, args.label)]
        if not labels:
            raise UserError(f"no label matches {args.label!r} in results store {store.url}")
        scores = store.scores(labels=labels)
    print(log_scores(scores, args.to, args.dest, args.run_name))
    return 0
