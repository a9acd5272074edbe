"""The results store of the benchmark half: every evaluation's scores and provenance, and the eval cache.

SQLite file by default, any SQLAlchemy URL (PostgreSQL for a team) through the same code. Callers build
``eval_key`` from model content hash, task config hash, data and settings; asking :meth:`ResultsStore.lookup`
for a stored key is the cache hit that skips all model work.
"""

from spin_bench.store.records import EvaluationRecord, ScoreRecord
from spin_bench.store.results_store import ResultsStore
from spin_bench.store.schema import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "EvaluationRecord", "ResultsStore", "ScoreRecord"]
