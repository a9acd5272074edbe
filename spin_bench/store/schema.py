"""The store's tables and its schema version, created on first use and checked on every open.

Two tables: ``evaluations`` (one row per cache entry) and ``scores`` (one row per task, metric and filter
of that evaluation); pairwise MT-Bench evaluations add their per-game verdicts in ``pairwise_verdicts``.
``meta`` holds ``schema_version`` so that an older spin-bench refuses a store that a newer one has changed
instead of writing rows the newer code would misread.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Double,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    inspect,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, ProgrammingError

from spin_bench.core.errors import UserError
from spin_bench.store.engine import retry_transient, write_transaction
from spin_bench.store.records import MAX_KEY_LENGTH

SCHEMA_VERSION = 1
# Short strings are keys, labels and hashes (indexed); paths and JSON are unbounded Text.
_KEY = String(MAX_KEY_LENGTH)

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", _KEY, primary_key=True),
    Column("value", Text, nullable=False),
)

evaluations = Table(
    "evaluations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("eval_key", _KEY, nullable=False, unique=True),
    Column("model_path", Text, nullable=False),
    Column("model_hash", _KEY, nullable=False, index=True),
    Column("label", _KEY, nullable=False, index=True),
    Column("iteration", Integer, nullable=True),
    Column("suite", _KEY, nullable=False, index=True),
    Column("backend", _KEY, nullable=False),
    Column("dtype", _KEY, nullable=False),
    Column("batch_size", Integer, nullable=False),
    Column("limit", Double, nullable=True),
    Column("add_bos", Boolean, nullable=False),
    Column("chat_template_hash", _KEY, nullable=True),
    Column("lm_eval_version", _KEY, nullable=False),
    Column("judge", Text, nullable=True),
    Column("results_path", Text, nullable=False),
    Column("samples_path", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("extra", Text, nullable=False),
)

scores = Table(
    "scores",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("evaluation_id", Integer, ForeignKey("evaluations.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("task", _KEY, nullable=False, index=True),
    Column("metric", _KEY, nullable=False),
    Column("filter", _KEY, nullable=False),
    # NULL stands for NaN: SQLite cannot store NaN, and lm-eval produces it for undefined metrics.
    Column("value", Double, nullable=True),
    Column("stderr", Double, nullable=True),
    Column("n", Integer, nullable=False),
    Column("n_shot", Integer, nullable=False),
    Column("task_config_hash", _KEY, nullable=False),
    Column("data_source", Text, nullable=False),
    Column("deviations", Text, nullable=False),
    UniqueConstraint("evaluation_id", "task", "metric", "filter"),
)

# One row per (question, turn) of a pairwise MT-Bench evaluation (suite mt_bench_pairwise): the judge's
# verdict in each order and the game's outcome for the evaluated model against its baseline (extra.baseline).
# The judge and its mode are the evaluation's (evaluations.judge). Added to schema version 1 as a new table:
# a store made before it gains the table the first time a newer spin-bench opens it; older ones ignore it.
pairwise_verdicts = Table(
    "pairwise_verdicts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("evaluation_id", Integer, ForeignKey("evaluations.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("question_id", Integer, nullable=False),
    Column("turn", Integer, nullable=False),
    Column("category", _KEY, nullable=False),
    Column("judge_prompt", _KEY, nullable=False),
    Column("verdict_model_first", _KEY, nullable=False),  # A, B, tie or error, with the model as assistant A
    Column("verdict_baseline_first", _KEY, nullable=False),  # the same with the baseline as assistant A
    Column("outcome", _KEY, nullable=False),  # win, tie, loss (the most probable one in expected mode), or error
    Column("p_win", Double, nullable=True),  # NULL when either order has no verdict (the game is dropped)
    Column("p_tie", Double, nullable=True),
    Column("p_loss", Double, nullable=True),
    Column("model_length", Integer, nullable=False),  # characters of each answer to this turn
    Column("baseline_length", Integer, nullable=False),
    UniqueConstraint("evaluation_id", "question_id", "turn"),
)

_OURS = frozenset({meta.name, evaluations.name, scores.name, pairwise_verdicts.name})


def ensure_schema(engine: Engine, shown_url: str) -> None:
    """Check the schema version, creating the tables first when the store is new.

    The common case (an existing, current store) only reads, so a report can open a store it cannot
    write. Creation runs in one write transaction that re-checks, so processes opening a new store at
    the same moment create it once; on PostgreSQL the loser of a CREATE race retries and finds it done.
    """
    with engine.connect() as conn, conn.begin():
        if _current(conn, shown_url):
            return
    retry_transient(lambda: _create(engine, shown_url), also=(IntegrityError, ProgrammingError))


def _create(engine: Engine, shown_url: str) -> None:
    with write_transaction(engine) as conn:
        if _current(conn, shown_url):
            return
        metadata.create_all(conn, checkfirst=True)
        stored = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).scalar_one_or_none()
        if stored is None:
            conn.execute(insert(meta).values(key="schema_version", value=str(SCHEMA_VERSION)))


def _current(conn: Connection, shown_url: str) -> bool:
    """True if all tables exist at our version; False if the store is empty; UserError if it is foreign."""
    present = set(inspect(conn).get_table_names()) & _OURS
    if meta.name not in present:
        if present:
            raise UserError(
                f"results store {shown_url} has table(s) {', '.join(sorted(present))} but no schema version: "
                "it was not written by spin-bench; use another store"
            )
        return False
    version = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).scalar_one_or_none()
    if version != str(SCHEMA_VERSION):
        newer = version is not None and version.isdigit() and int(version) > SCHEMA_VERSION
        reason = "a newer spin-bench wrote it; upgrade spin-bench" if newer else "it is not a known version"
        raise UserError(
            f"results store {shown_url} has schema version {version!r}; this spin-bench reads version "
            f"{SCHEMA_VERSION} ({reason})"
        )
    return present == _OURS
