"""Loads the Lua scripts in ``lua/`` once and registers them on each client that needs them."""

from __future__ import annotations

from importlib import resources
from typing import Any

__all__ = ["FILES", "SOURCES", "Scripts"]


def _read() -> dict[str, str]:
    folder = resources.files(__package__).joinpath("lua")
    return {entry.name[:-4]: entry.read_text(encoding="utf-8") for entry in folder.iterdir()
            if entry.name.endswith(".lua")}


_texts = _read()
#: script name (file name without ``.lua``) -> the file's own text, as a reader sees it (the lessons show these)
FILES: dict[str, str] = {name: text for name, text in _texts.items() if not name.startswith("_")}
#: script name -> the source Redis runs: _lib.lua (helpers every script may use; static text, never generated) in
#: front of the script's file
SOURCES: dict[str, str] = {name: _texts["_lib"] + text for name, text in FILES.items()}


class Scripts:
    """The scripts registered on one client (sync or asyncio): ``scripts.claim(keys=..., args=...)``.

    redis-py's Script objects send EVALSHA and load the source on NOSCRIPT, so a restarted server (empty script
    cache) needs nothing special; inside a pipeline they are loaded before the pipeline runs.
    """

    def __init__(self, client: Any) -> None:
        for name, source in SOURCES.items():
            setattr(self, name, client.register_script(source))

    def __getattr__(self, name: str) -> Any:  # pragma: no cover - only reached for a missing script
        raise AttributeError(f"no Lua script named {name!r}; known: {sorted(SOURCES)}")
