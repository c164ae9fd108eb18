"""A small throw-away course project for testing the runner: two exercises, their graders and solutions."""

from __future__ import annotations

import textwrap
from pathlib import Path

INFO = '''
format_version = 1
welcome = "Welcome to the test course."

[[exercises]]
name = "alpha"
task = 0
title = "Add two numbers"
timeout = 30
hints = ["First hint: use +.", "Second hint: return a + b.", "Third hint: really, return a + b."]

[[exercises]]
name = "beta"
task = 1
title = "Say hello"
timeout = 30
hints = ["Print it.", "print('hello')."]
'''

STUBS = {
    "alpha.py": '"""Write add(a, b)."""\n\n\ndef add(a, b):\n    # TODO: return the sum\n    raise NotImplementedError("add")\n',
    "beta.py": '"""Write hello()."""\n\n\ndef hello():\n    # TODO: print hello\n    raise NotImplementedError("hello")\n',
}
SOLUTIONS = {
    "alpha.py": '"""Write add(a, b)."""\n\n\ndef add(a, b):\n    return a + b\n',
    "beta.py": '"""Write hello()."""\n\n\ndef hello():\n    print("hello")\n',
}
GRADER_HEAD = '''
import importlib.util, os, sys
from pathlib import Path

ROOT = Path(os.environ.get("EXERCISE_ROOT") or Path(__file__).resolve().parents[2] / "exercises")


def load(name):
    spec = importlib.util.spec_from_file_location(name + "_graded", ROOT / (name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
'''
GRADERS = {
    "test_alpha.py": GRADER_HEAD + '''
ex = load("alpha")


def test_small_numbers():
    got = ex.add(2, 3)
    assert got == 5, f"add(2, 3) returned {got!r}; expected 5"


def test_negative_numbers():
    assert ex.add(-2, -3) == -5, "add(-2, -3) should be -5"
''',
    "test_beta.py": GRADER_HEAD + '''
ex = load("beta")


def test_prints_hello(capsys):
    ex.hello()
    out = capsys.readouterr().out
    print(out, end="")
    assert out == "hello\\n", f"hello() printed {out!r}; expected 'hello'"
''',
}


def make_project(root: Path, stubs: dict[str, str] | None = None, solutions: dict[str, str] | None = None,
                 info: str = INFO, graders: dict[str, str] | None = None) -> Path:
    """Write the fake project under ``root`` and return ``root``."""
    (root / "exercises" / "solutions").mkdir(parents=True)
    (root / "tests" / "exercises").mkdir(parents=True)
    (root / "exercises" / "info.toml").write_text(textwrap.dedent(info))
    for name, text in (stubs or STUBS).items():
        (root / "exercises" / name).write_text(text)
    for name, text in (solutions or SOLUTIONS).items():
        (root / "exercises" / "solutions" / name).write_text(text)
    for name, text in (graders or GRADERS).items():
        (root / "tests" / "exercises" / name).write_text(text)
    return root


