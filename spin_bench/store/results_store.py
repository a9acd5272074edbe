"""The results store: one cache entry per evaluation, one row per (task, metric, filter) score.

An evaluation and its scores are written in one transaction, so a reader (or a crashed writer's rerun)
sees either all of them or none. The unique ``eval_key`` makes the store the evaluation cache: the first
writer of a key wins and later ones are told so, which is what concurrent evaluations of the same
checkpoint need.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from spin_bench.core.errors import UserError
from spin_bench.store.engine import (
    describe,
    open_engine,
    resolve_url,
    retry_transient,
    shown,
    write_transaction,
)
from spin_bench.store.pairwise import PairwiseVerdict, validate_verdicts, verdict_rows
from spin_bench.store.records import (
    EvaluationRecord,
    ScoreRecord,
    evaluation_from_row,
    evaluation_row,
    score_from_row,
    score_row,
    validate,
)
from spin_bench.store.schema import (
    ensure_schema,
    evaluations,
    pairwise_verdicts,
    scores,
)

if TYPE_CHECKING:
    import pandas as pd


class ResultsStore:
    """A SQLite file (a bare path) or any SQLAlchemy URL, e.g. ``postgresql+psycopg://user@host/db``.

    Open one per process: the underlying connection pool must not cross a fork.
    """

    def __init__(self, url: str | os.PathLike[str]) -> None:
        self._url = resolve_url(url)
        self._engine = open_engine(self._url)
        try:
            ensure_schema(self._engine, self.url)
        except UserError:
            self._engine.dispose()
            raise
        except (SQLAlchemyError, sqlite3.Error, OSError) as err:
            self._engine.dispose()
            reason = describe(err)
            if "file is not a database" in reason:
                reason += " (not a SQLite file: give a new path or an existing results store)"
            raise UserError(f"cannot open results store {self.url}: {reason}") from None

    @property
    def url(self) -> str:
        """The store's URL with any password shown as ``***``; safe to log and to print in reports."""
        return shown(self._url)

    def __repr__(self) -> str:
        return f"ResultsStore({self.url!r})"

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ cache

    def lookup(self, eval_key: str) -> tuple[EvaluationRecord, list[ScoreRecord]] | None:
        """The stored evaluation and its scores (in insertion order), or None if ``eval_key`` is not stored."""
        with self._engine.connect() as conn, conn.begin():
            row = conn.execute(select(evaluations).where(evaluations.c.eval_key == eval_key)).mappings().first()
            if row is None:
                return None
            query = select(scores).where(scores.c.evaluation_id == row["id"]).order_by(scores.c.id)
            score_rows = conn.execute(query).mappings().all()
        return evaluation_from_row(row), [score_from_row(score) for score in score_rows]

    def add(self, evaluation: EvaluationRecord, scores: Sequence[ScoreRecord],
            verdicts: Sequence[PairwiseVerdict] = ()) -> bool:
        """Store an evaluation and all its scores (and a pairwise evaluation's verdicts) in one transaction.

        Returns:
            True if inserted; False if ``eval_key`` was already stored (then nothing is written: another
            run, possibly a concurrent one, evaluated the same thing first).

        Raises:
            UserError: the records are invalid (no scores, an empty task or metric, a non-numeric value,
                a duplicate (task, metric, filter), ...); nothing is written.
        """
        validate(evaluation, scores)
        validate_verdicts(verdicts, f"results for {evaluation.eval_key!r}")
        try:
            return retry_transient(lambda: self._insert(evaluation, scores, verdicts))
        except IntegrityError:
            # On PostgreSQL two writers can both pass the existence check; the loser's insert then hits
            # the unique eval_key. On SQLite BEGIN IMMEDIATE already serialised them.
            if self._exists(evaluation.eval_key):
                return False
            raise

    def delete(self, eval_key: str) -> bool:
        """Remove an evaluation and its scores (to evaluate again on demand). False if it was not stored."""

        def action() -> bool:
            with write_transaction(self._engine) as conn:
                evaluation_id = self._id_of(conn, eval_key)
                if evaluation_id is None:
                    return False
                conn.execute(delete(scores).where(scores.c.evaluation_id == evaluation_id))
                conn.execute(delete(pairwise_verdicts).where(pairwise_verdicts.c.evaluation_id == evaluation_id))
                conn.execute(delete(evaluations).where(evaluations.c.id == evaluation_id))
                return True

        return retry_transient(action)

    def _insert(self, evaluation: EvaluationRecord, score_records: Sequence[ScoreRecord],
                verdicts: Sequence[PairwiseVerdict] = ()) -> bool:
        with write_transaction(self._engine) as conn:
            if self._id_of(conn, evaluation.eval_key) is not None:
                return False
            row = evaluation_row(evaluation) | {"created_at": datetime.now(UTC)}
            evaluation_id = conn.execute(insert(evaluations).values(**row)).inserted_primary_key[0]
            self._insert_scores(conn, evaluation_id, score_records)
            if verdicts:
                conn.execute(insert(pairwise_verdicts), verdict_rows(verdicts, evaluation_id))
        return True

    @staticmethod
    def _insert_scores(conn: Connection, evaluation_id: int, score_records: Sequence[ScoreRecord]) -> None:
        conn.execute(insert(scores), [score_row(score, evaluation_id) for score in score_records])

    @staticmethod
    def _id_of(conn: Connection, eval_key: str) -> int | None:
        query = select(evaluations.c.id).where(evaluations.c.eval_key == eval_key)
        return conn.execute(query).scalar_one_or_none()

    def _exists(self, eval_key: str) -> bool:
        with self._engine.connect() as conn, conn.begin():
            return self._id_of(conn, eval_key) is not None

    # ------------------------------------------------------------------ reading for reports

    def evaluations(self, label: str | None = None, suite: str | None = None) -> pd.DataFrame:
        """One row per evaluation, oldest first; ``judge``/``extra`` decoded, ``created_at`` UTC-aware."""
        from spin_bench.store.frames import evaluation_frame

        query = select(evaluations).order_by(evaluations.c.id)
        if label is not None:
            query = query.where(evaluations.c.label == label)
        if suite is not None:
            query = query.where(evaluations.c.suite == suite)
        with self._engine.connect() as conn, conn.begin():
            return evaluation_frame(conn.execute(query).mappings().all())

    def scores(
        self,
        label: str | None = None,
        labels: Sequence[str] | None = None,
        suite: str | None = None,
        task: str | None = None,
    ) -> pd.DataFrame:
        """Scores joined with their evaluation's columns; ``deviations`` decoded to lists.

        ``label`` and ``labels`` together select the union of both; ``labels=[]`` alone selects nothing.
        Rows come in evaluation order, then in the order each evaluation stored them.
        """
        from spin_bench.store.frames import score_frame

        evaluation_columns = [evaluations.c[name] for name in evaluations.c.keys()]
        score_columns = [column for column in scores.c if column.name not in ("id", "evaluation_id")]
        query = (
            select(*score_columns, *evaluation_columns)
            .join_from(scores, evaluations, scores.c.evaluation_id == evaluations.c.id)
            .order_by(evaluations.c.id, scores.c.id)
        )
        if label is not None or labels is not None:
            wanted = [*([] if label is None else [label]), *(labels or [])]
            query = query.where(evaluations.c.label.in_(wanted))
        if suite is not None:
            query = query.where(evaluations.c.suite == suite)
        if task is not None:
            query = query.where(scores.c.task == task)
        with self._engine.connect() as conn, conn.begin():
            return score_frame(conn.execute(query).mappings().all())

    def pairwise_verdicts(self, label: str | None = None) -> pd.DataFrame:
        """Every stored pairwise game (one row per question and turn), with its evaluation's label, key,
        baseline, judge and mode; evaluation order, then question and turn."""
        from spin_bench.store.pairwise import verdict_frame

        columns = [c for c in pairwise_verdicts.c if c.name not in ("id", "evaluation_id")]
        query = (
            select(evaluations.c.label, evaluations.c.eval_key, evaluations.c.judge, evaluations.c.extra, *columns)
            .join_from(pairwise_verdicts, evaluations, pairwise_verdicts.c.evaluation_id == evaluations.c.id)
            .order_by(evaluations.c.id, pairwise_verdicts.c.question_id, pairwise_verdicts.c.turn)
        )
        if label is not None:
            query = query.where(evaluations.c.label == label)
        with self._engine.connect() as conn, conn.begin():
            return verdict_frame(conn.execute(query).mappings().all())
