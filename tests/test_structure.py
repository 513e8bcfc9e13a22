"""The code's shape stays as issue 14 left it: no import cycle among the `pipelines`
modules, no module over 600 lines, and no file that points outside the repository.

Imports are read with `ast`, at module level and inside functions alike: an import
moved into a function to dodge a cycle still closes the loop when it runs, so it counts.
Only `if TYPE_CHECKING:` blocks are left out (they never run)."""

from __future__ import annotations

import ast
import os
from pathlib import Path

from pipelines.settings import PROJECT_DIR

PACKAGE = "pipelines"
MAX_LINES = 600
# Every Python file of the project but the tests (fixtures may be long tables of cases).
SIZED_FOLDERS = ("pipelines", "scripts", "bench")
# One machine's checkout, the shared folder beside it, a home folder: none is there on
# another machine or in CI. (Spelt in pieces so that this file does not match itself.)
OUTSIDE_PATHS = ("/" + "work/", ".." + "/shared", "/" + "home/")
TEXT_SUFFIXES = {".py", ".md", ".toml", ".sql", ".cfg", ".txt", ".yml", ".yaml", ".sh"}
# Cycles known and being broken by their owners. The test fails on any other cycle, and on
# a listed one that no longer exists, so that this list only ever shrinks.
KNOWN_CYCLES: set[frozenset[str]] = set()
NOT_OURS = {".git", ".venv", "__pycache__", "node_modules"}
# what `scripts/demo` and the benchmarks write (a warehouse's dagster.yaml names its own
# folder), not part of the repository
GENERATED = {PROJECT_DIR / "warehouse", PROJECT_DIR / "bench" / "out"}


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package (a package is its __init__)."""
    modules = {}
    for path in sorted((PROJECT_DIR / PACKAGE).rglob("*.py")):
        parts = path.relative_to(PROJECT_DIR).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imported_modules(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `module` imports, wherever in the file the import stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skipped = _type_checking_lines(tree)
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # `from package import name` imports the submodule `name` when there is one.
            targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                       for alias in node.names]
        else:
            continue
        for target in targets:
            # `import pipelines.a.b` runs pipelines.a.b: the longest name that is a module of ours.
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != module:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = module_files()
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def describe(component: list[str], graph: dict[str, set[str]]) -> str:
    members = set(component)
    edges = [f"{a} -> {b}" for a in component for b in sorted(graph[a] & members)]
    return "cycle of " + ", ".join(component) + ":\n    " + "\n    ".join(edges)


def test_the_reader_sees_imports_wherever_they_stand(tmp_path):
    """The parser the structure test relies on: module-level, in a function, relative,
    a submodule named in `from package import`, and TYPE_CHECKING left out."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "leaf.py").write_text("")
    (package / "top.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from pkg.sub import leaf\n"
        "if TYPE_CHECKING:\n    from pkg import hidden\n"
        "def later():\n    from . import other\n"
    )
    (package / "other.py").write_text("import pkg.top\n")
    (package / "hidden.py").write_text("")
    modules = {"pkg": package / "__init__.py", "pkg.sub": package / "sub" / "__init__.py",
               "pkg.sub.leaf": package / "sub" / "leaf.py", "pkg.top": package / "top.py",
               "pkg.other": package / "other.py", "pkg.hidden": package / "hidden.py"}
    graph = {name: imported_modules(name, path, modules) for name, path in modules.items()}
    assert graph["pkg.top"] == {"pkg.sub.leaf", "pkg.other"}
    assert cycles(graph) == [["pkg.other", "pkg.top"]]


def test_no_import_cycle_among_the_pipelines_modules():
    graph = import_graph()
    assert "pipelines.warehouse.db" in graph  # the package was found
    found = cycles(graph)
    new = [component for component in found if frozenset(component) not in KNOWN_CYCLES]
    assert not new, "\n".join(describe(component, graph) for component in new)
    gone = KNOWN_CYCLES - {frozenset(component) for component in found}
    assert not gone, f"no longer a cycle, remove from KNOWN_CYCLES: {[sorted(c) for c in gone]}"


def test_no_module_over_600_lines():
    too_long = {}
    for folder in SIZED_FOLDERS:
        for path in sorted((PROJECT_DIR / folder).rglob("*.py")):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_LINES:
                too_long[path.relative_to(PROJECT_DIR).as_posix()] = lines
    assert not too_long, f"modules over {MAX_LINES} lines: {too_long}"


def test_no_file_points_outside_the_repository():
    found = []
    for root, folders, files in os.walk(PROJECT_DIR):
        folders[:] = sorted(f for f in folders if f not in NOT_OURS and not f.endswith(".egg-info")
                            and Path(root) / f not in GENERATED)
        for name in sorted(files):
            path = Path(root) / name
            if path.suffix not in TEXT_SUFFIXES:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                if any(outside in line for outside in OUTSIDE_PATHS):
                    found.append(f"{path.relative_to(PROJECT_DIR).as_posix()}:{number}: {line.strip()}")
    assert not found, "paths outside the repository:\n" + "\n".join(found)
