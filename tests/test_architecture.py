"""The floors are a contract: import-linter checks the layers, and this file checks what it cannot (module
cycles, private names across modules), and that a planted back-arrow really breaks the contract."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("spin_bench", "training", "reports")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True,
                          env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"}, timeout=300)


@pytest.fixture(scope="module")
def graph():
    grimp = pytest.importorskip("grimp")
    sys.path.insert(0, str(REPO))
    return grimp.build_graph(*PACKAGES)


def test_the_layer_contracts_hold():
    result = _lint(REPO)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "BROKEN" not in result.stdout


def test_a_planted_back_arrow_breaks_a_contract(tmp_path):
    """The bench importing training (the back-arrow the redesign removed) must fail `lint-imports`."""
    for name in (*PACKAGES, "pyproject.toml"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    planted = tmp_path / "spin_bench" / "bench" / "suites.py"
    planted.write_text(planted.read_text(encoding="utf-8") + "\nimport training.config  # planted\n",
                       encoding="utf-8")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "spin_bench.bench.suites -> training.config" in result.stdout


def test_no_module_import_cycles(graph):
    """Every import a -> b inside the project, and no way back from b to a (type-checking imports included)."""
    cycles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if imported != importer and graph.find_shortest_chain(importer=imported, imported=importer):
                cycles.append(f"{importer} <-> {imported}")
    assert cycles == []


def _project_module(name: str) -> bool:
    return name.split(".", 1)[0] in PACKAGES


def test_no_private_name_is_imported_across_modules():
    found = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and _project_module(node.module):
                    private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
                    found += [f"{path.relative_to(REPO)}: {node.module}.{name}" for name in private]
    assert found == []


def test_argparse_lives_only_in_the_cli():
    users = [str(p.relative_to(REPO)) for package in PACKAGES for p in sorted((REPO / package).rglob("*.py"))
             if "import argparse" in p.read_text(encoding="utf-8") and "spin_bench/cli/" not in str(p)
             and p.name != "server.py"]  # the local judge server is its own program (python -m ...server)
    assert users == []
