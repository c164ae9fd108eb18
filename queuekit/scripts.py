"""Loads the Lua scripts in ``lua/`` once and registers them on each client that needs them."""

from __future__ import annotations

from importlib import resources
from typing import Any

__all__ = ["SOURCES", "Scripts"]


def _load() -> dict[str, str]:
    folder = resources.files(__package__).joinpath("lua")
    # _lib.lua holds helpers every script may use: it goes in front of each script (static text, never generated)
    lib = folder.joinpath("_lib.lua").read_text(encoding="utf-8")
    return {entry.name[:-4]: lib + entry.read_text(encoding="utf-8")
            for entry in folder.iterdir() if entry.name.endswith(".lua") and not entry.name.startswith("_")}


#: script name (file name without ``.lua``) -> source, shared helpers included
SOURCES: dict[str, str] = _load()


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
