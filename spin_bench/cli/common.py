"""What several commands share: the recipe arguments, the results-store argument, quiet library bars."""

from __future__ import annotations

import argparse
from pathlib import Path

from spin_bench.core.errors import UserError
from spin_bench.core.paths import DEFAULT_STORE, STORE_ENV, default_store


def add_recipe_arguments(parser: argparse.ArgumentParser, *, out_help: str | None = None) -> None:
    parser.add_argument("--recipe", required=True, help="built-in recipe name (embedded, paper-zephyr-7b) or YAML path")
    parser.add_argument("--out", type=Path, default=None,
                        help=out_help or "run directory (default: runs/<recipe name>)")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                        help="recipe overrides, e.g. spin.iterations.0.beta=0.2 generation.max_new_tokens=64")


def add_store_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default=None,
                        help=f"results store: a SQLite path or any SQLAlchemy URL (default: ${STORE_ENV}, "
                        f"else {DEFAULT_STORE})")


def existing_store(url: str | None):
    """Open a results store that must already exist: opening a SQLite path that does not would create an
    empty store, and a typo deserves an error instead."""
    url = url or default_store()
    if "://" not in url and not Path(url).expanduser().exists():
        raise UserError(f"results store {url} does not exist")
    from spin_bench.store import ResultsStore

    return ResultsStore(url)


def quiet_library_bars() -> None:
    """Weight-loading and dataset-map bars of a few milliseconds each only bury the stage bars."""
    import datasets
    import transformers

    transformers.utils.logging.disable_progress_bar()
    datasets.disable_progress_bars()
