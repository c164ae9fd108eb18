"""The shape of the package itself: which queuekit modules import which.

The graph is built from the source with ``ast``, not by importing it: every ``import`` and ``from ... import`` at
module level or inside a function counts, those under ``if TYPE_CHECKING:`` do not (they never run). A package
(``queuekit/learn/``, ``queuekit/worker/``) counts as its modules, its ``__init__`` standing for the package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import queuekit

PACKAGE = Path(queuekit.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = ("queuekit",) + path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement under ``node`` that can run: all but those in the body of ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _runtime_imports(ast.Module(body=[other], type_ignores=[]))
        else:
            yield from _runtime_imports(child)


def _targets(statement: ast.Import | ast.ImportFrom, module: str, is_package: bool,
             known: dict[str, Path]) -> Iterator[str]:
    """The queuekit modules ``statement`` (in ``module``) imports: ``from .x import y`` names ``x``, or ``x.y``
    when that is a module itself; ``from . import x`` names ``x`` when it is a module, else the package."""
    if isinstance(statement, ast.Import):
        bases = [alias.name for alias in statement.names]
        names: list[str] = []
    else:
        if statement.level:
            package = module if is_package else module.rpartition(".")[0]
            for _ in range(statement.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{statement.module}" if statement.module else package
        else:
            base = statement.module or ""
        bases = [base]
        names = [alias.name for alias in statement.names]
    for base in bases:
        if not (base == "queuekit" or base.startswith("queuekit.")):
            continue
        submodules = [f"{base}.{name}" for name in names if f"{base}.{name}" in known]
        if submodules:
            yield from submodules
        if len(submodules) < len(names) or not names:
            while base not in known and "." in base:  # `import queuekit.x.y` of a name that is no module
                base = base.rpartition(".")[0]
            if base in known:
                yield base


def import_graph() -> dict[str, set[str]]:
    """``{module: the queuekit modules it imports at run time}`` for every module of the package."""
    known = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        graph[module] = {target for statement in _runtime_imports(tree)
                         for target in _targets(statement, module, is_package, known) if target != module}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as ``[a, b, ..., a]``, or None (a depth-first search, in sorted order)."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt in on_path:
                return path[path.index(nxt):] + [nxt]
            if nxt not in done:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            found = visit(start)
            if found:
                return found
    return None


def test_the_graph_sees_every_kind_of_import() -> None:
    # Given the graph of today's package
    graph = import_graph()
    # Then module-level, relative and package imports are all edges
    assert "queuekit.errors" in graph["queuekit"]             # `from . import errors` in __init__
    assert "queuekit.job" in graph["queuekit.queue"]          # `from .job import Job`
    assert "queuekit.learn.catalog" in graph["queuekit.learn"]
    assert all(not m.endswith("__init__") for m in graph)


def test_a_cycle_is_found_and_type_checking_imports_are_not_edges() -> None:
    source = "if TYPE_CHECKING:\n    import queuekit.queue\nelse:\n    import queuekit.job\n"
    assert [ast.unparse(s) for s in _runtime_imports(ast.parse(source))] == ["import queuekit.job"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_queuekit_modules_import_each_other_without_a_circle() -> None:
    # Given every runtime import between queuekit's modules (module level and inside functions)
    graph = import_graph()
    # Then no module imports, however indirectly, one that imports it back
    cycle = find_cycle(graph)
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


# ---- the size of a function ------------------------------------------------------------------------------------------

#: the longest a function of queuekit may be, in lines from its ``def`` (decorators excluded) to its last line
MAX_FUNCTION_LINES = 60


def long_functions(limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """``module:line name (n lines)`` for each function or method of queuekit longer than ``limit`` lines."""
    found = []
    for module, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > limit:
                    found.append(f"{module}:{node.lineno} {node.name} ({lines} lines)")
    return found


def test_the_length_check_finds_a_long_function() -> None:
    # Given the package's own functions, with the limit set below the length of the longest
    # Then the check names at least one; with the real limit it is the test below
    assert long_functions(limit=5)


def test_no_function_of_queuekit_is_longer_than_sixty_lines() -> None:
    assert long_functions() == []


# ---- the course uses the library as a learner does ------------------------------------------------------------------

def library_names_the_course_imports() -> set[str]:
    """Every name ``queuekit/learn/`` imports from queuekit outside the course package itself: ``queuekit.X`` for
    ``from queuekit import X``, the module's name for any other import of a queuekit module."""
    found: set[str] = set()
    for module, path in _modules().items():
        if not module.startswith("queuekit.learn"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                target = node.module or ""
                if node.level:  # relative: resolve against the course package
                    base = module.split(".")[: -node.level] if not path.name == "__init__.py" else \
                        module.split(".")[: len(module.split(".")) - node.level + 1]
                    target = ".".join([*base, *([target] if target else [])])
                if target == "queuekit":
                    found |= {f"queuekit.{alias.name}" for alias in node.names}
                elif target.startswith("queuekit") and not target.startswith("queuekit.learn"):
                    found.add(target)
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("queuekit")
                          and not a.name.startswith("queuekit.learn")}
    return found


def test_the_course_runner_uses_only_the_public_api() -> None:
    public = {f"queuekit.{name}" for name in queuekit.__all__} | {"queuekit"}
    assert library_names_the_course_imports() <= public, library_names_the_course_imports() - public
