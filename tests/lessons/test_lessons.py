"""The lesson notebooks: each pair (lessons/py/NN_name.py, lessons/NN_name.ipynb) is in sync with no stored outputs,
and every notebook runs top to bottom in a real Jupyter kernel, on the embedded default and on the real Redis.

The notebooks assert what they teach; outputs are never compared. A failing cell is reported with its index and
source. The real-Redis run uses database 3 (reserved for the lessons), flushed before each notebook; without a
real Redis it is skipped, except with ``CI=true`` where it fails. ``QUEUEKIT_LESSON_BACKENDS=embedded`` limits the
backends; ``QUEUEKIT_LESSONS=00,07`` limits the notebooks.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LESSONS = ROOT / "lessons"
TEXT = LESSONS / "py"
REAL_REDIS_URL = "redis://127.0.0.1:6379/3"
#: seconds a notebook may take on one backend (the issue asks for under 60 s on the embedded default)
NOTEBOOK_BUDGET = 60.0

BACKENDS = [b.strip() for b in os.environ.get("QUEUEKIT_LESSON_BACKENDS", "embedded,redis").split(",") if b.strip()]
_only = [p.strip() for p in os.environ.get("QUEUEKIT_LESSONS", "").split(",") if p.strip()]
NOTEBOOKS = sorted(p for p in LESSONS.glob("[0-9][0-9]_*.ipynb") if not _only or p.name[:2] in _only)
SOURCES = sorted(TEXT.glob("[0-9][0-9]_*.py"))


def test_there_are_lessons() -> None:
    names = [p.stem for p in LESSONS.glob("[0-9][0-9]_*.ipynb")]
    assert len(names) >= 14, names
    assert [n[:2] for n in sorted(names)] == [f"{i:02d}" for i in range(len(names))], "lessons are numbered 00, 01, …"


def test_every_notebook_has_its_text_twin() -> None:
    notebooks = {p.stem for p in LESSONS.glob("[0-9][0-9]_*.ipynb")}
    texts = {p.stem for p in SOURCES}
    assert notebooks == texts, f"unpaired: {sorted(notebooks ^ texts)} (run: jupytext --sync lessons/py/*.py)"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_pair_in_sync_and_without_outputs(source: Path) -> None:
    """The .ipynb holds exactly the cells of the .py (regenerated in memory with jupytext), and no outputs."""
    import jupytext
    import nbformat

    expected = jupytext.read(source, fmt="py:percent")
    notebook_path = LESSONS / f"{source.stem}.ipynb"
    assert notebook_path.is_file(), f"{notebook_path.name} is missing: run jupytext --sync {source}"
    stored = nbformat.read(notebook_path, as_version=4)
    nbformat.validate(stored)
    want = [(c.cell_type, c.source.strip()) for c in expected.cells]
    got = [(c.cell_type, c.source.strip()) for c in stored.cells]
    for n, (w, g) in enumerate(zip(want, got)):
        assert w == g, f"cell {n} differs between {source.name} and {notebook_path.name}: run jupytext --sync"
    assert len(want) == len(got), f"{source.name} has {len(want)} cells, {notebook_path.name} {len(got)}"
    for n, cell in enumerate(stored.cells):
        if cell.cell_type == "code":
            assert not cell.get("outputs"), f"{notebook_path.name} cell {n} stores outputs: clear them"
            assert cell.get("execution_count") is None, f"{notebook_path.name} cell {n} stores an execution count"
    assert stored.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_lesson_shape(source: Path) -> None:
    """Explains before it shows, asserts what it teaches, grades an exercise in place, ends with its exercises."""
    import jupytext

    nb = jupytext.read(source, fmt="py:percent")
    cells = nb.cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# "), "starts with a titled explanation"
    code = "\n".join(c.source for c in cells if c.cell_type == "code")
    assert "assert " in code, "a lesson asserts what it teaches"
    assert "check(" in code and "results_table(" in code, "a lesson grades an exercise in place"
    last_markdown = [c for c in cells if c.cell_type == "markdown"][-1].source.lower()
    assert "exercise" in last_markdown, "a lesson ends by pointing to its exercises"
    assert "asyncio.run(" not in code, "asyncio.run() fails in a kernel: use top-level await"


def _real_redis_or_skip() -> None:
    import redis

    client = redis.Redis.from_url(REAL_REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
        client.flushdb()
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        message = f"real Redis not reachable at {REAL_REDIS_URL}: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: the real-Redis backend is required)", pytrace=False)
        pytest.skip(message)
    finally:
        client.close()


def _run_notebook(notebook: Path, backend: str) -> str | None:
    """Execute ``notebook`` on ``backend`` in a kernel of its own; None when it ran within its budget, otherwise
    what went wrong (the failing cell's index and source)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "QUEUEKIT_LESSON"))}
    env.pop("REDIS_URL", None)
    env.pop("EXERCISE_ROOT", None)
    # the in-notebook grading cell grades on the embedded server only (the graders' own suite covers Redis)
    env["QUEUEKIT_EXERCISE_BACKENDS"] = "embedded"
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    if backend == "redis":
        env["REDIS_URL"] = REAL_REDIS_URL
    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(LESSONS)}})
    started = time.monotonic()
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        index = next((n for n, c in enumerate(nb.cells) if c.cell_type == "code" and any(
            o.get("output_type") == "error" for o in c.get("outputs", []))), None)
        where = f"cell {index}:\n{nb.cells[index].source}\n" if index is not None else ""
        return f"{notebook.name} on {backend} failed at {where}\n{exc}"
    elapsed = time.monotonic() - started
    print(f"{notebook.name} on {backend}: {elapsed:.1f} s")
    if elapsed >= NOTEBOOK_BUDGET:
        return f"{notebook.name} took {elapsed:.1f} s on {backend} (budget {NOTEBOOK_BUDGET} s)"
    return None


@pytest.mark.lessons
@pytest.mark.timeout(NOTEBOOK_BUDGET * 3)
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(notebook: Path) -> None:
    """The notebook runs on every backend; the backends' kernels run at the same time (each its own server)."""
    from concurrent.futures import ThreadPoolExecutor

    backends, unreachable = list(BACKENDS), None
    if "redis" in backends:
        try:
            _real_redis_or_skip()
        except pytest.skip.Exception as exc:  # outside CI: run the embedded one, then report the skip
            backends.remove("redis")
            unreachable = str(exc)
    with ThreadPoolExecutor(max_workers=max(1, len(backends))) as pool:
        problems = [p for p in pool.map(lambda backend: _run_notebook(notebook, backend), backends) if p]
    assert not problems, "\n\n".join(problems)
    if unreachable:
        pytest.skip(f"ran on {backends} only: {unreachable}")
