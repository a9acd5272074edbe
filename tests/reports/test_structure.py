"""The reports package's shape: no import cycle between its modules, no private name imported from another
module, and the project's size limits (modules about 400 lines, functions about 60)."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

PACKAGE = Path(__file__).resolve().parents[2] / "reports"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def import_cycles(package: str = "reports") -> list[list[str]]:
    """Every cycle of module imports inside ``package`` (function-level and TYPE_CHECKING imports count)."""
    graph = grimp.build_graph(package, cache_dir=None)  # no cache: a stale one would hide a new cycle
    modules = sorted(graph.modules)
    cycles = []
    for module in modules:
        for imported in graph.find_modules_directly_imported_by(module):
            chain = graph.find_shortest_chain(importer=imported, imported=module)
            if chain is not None and imported != module:
                cycles.append([module, *chain])
    return cycles


def private_imports(package: Path = PACKAGE) -> list[str]:
    """``from reports.x import _name`` and ``reports.x._name`` uses, as "file:line name"."""
    found = []
    for path in sorted(package.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                   for alias in node.names if alias.name.startswith("reports")}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("reports"):
                found += [f"{path.name}:{node.lineno} {alias.name}" for alias in node.names
                          if alias.name.startswith("_")]
            elif (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                  and ast.unparse(node.value) in modules):
                found.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
    return found


def sizes(package: Path = PACKAGE) -> tuple[dict[str, int], dict[str, int]]:
    """Lines per module, and lines per function (``module:function``)."""
    modules, functions = {}, {}
    for path in sorted(package.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        modules[path.name] = len(text.splitlines())
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                functions[f"{path.name}:{node.name}"] = node.end_lineno - node.lineno + 1
    return modules, functions


def test_no_import_cycle_inside_reports():
    assert import_cycles() == []


def test_the_cycle_search_finds_a_cycle(tmp_path, monkeypatch):
    (tmp_path / "knot").mkdir()
    (tmp_path / "knot" / "__init__.py").write_text("")
    (tmp_path / "knot" / "a.py").write_text("from knot import b\n")
    (tmp_path / "knot" / "b.py").write_text("def f():\n    from knot import a  # a lazy import still counts\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles("knot") and all(set(cycle) >= {"knot.a", "knot.b"} for cycle in import_cycles("knot"))


def test_no_private_name_is_imported_across_reports_modules(tmp_path):
    assert private_imports() == []
    (tmp_path / "x.py").write_text("import reports.tables\nfrom reports.figures import _LAYOUT, Plot\n"
                                   "reports.tables._latex('x')\n")
    assert private_imports(tmp_path) == ["x.py:2 _LAYOUT", "x.py:3 reports.tables._latex"]


def test_modules_and_functions_stay_small():
    modules, functions = sizes()
    assert {name: lines for name, lines in modules.items() if lines > MAX_MODULE_LINES} == {}
    assert {name: lines for name, lines in functions.items() if lines > MAX_FUNCTION_LINES} == {}
