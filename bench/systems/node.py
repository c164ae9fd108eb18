"""Node peers run through ``node bench/node/<script>.js`` (see bench/node/common.js)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

from bench.common import BENCH_DIR
from bench.systems.base import Adapter

NODE_DIR = BENCH_DIR / "node"


def node_unavailable(package: str) -> str | None:
    if shutil.which("node") is None:
        return "node not found"
    if not (NODE_DIR / "node_modules" / package / "package.json").exists():
        return f"npm package '{package}' not installed in bench/node (npm ci)"
    return None


def ensure_node_modules(log=print) -> None:
    """npm ci / npm install in bench/node when node_modules is missing (prints a note on failure)."""
    if (NODE_DIR / "node_modules").is_dir():
        return
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        log("note: node/npm not found: Node peers (bullmq, bee-queue) skipped")
        return
    cmds = [[npm, "install", "--no-audit", "--no-fund"]]
    if (NODE_DIR / "package-lock.json").exists():
        # npm ci first; npm 10/11 sometimes reject their own lock file (optional platform
        # packages of msgpackr-extract), then npm install (same locked versions) is used.
        cmds.insert(0, [npm, "ci", "--no-audit", "--no-fund"])
    for cmd in cmds:
        log(f"installing Node peers: {' '.join(cmd[:2])} (in bench/node)")
        try:
            subprocess.run(cmd, cwd=NODE_DIR, check=True, capture_output=True, timeout=600)
            return
        except Exception as e:  # noqa: BLE001 - any failure: try the next, else skip the Node peers
            log(f"note: {' '.join(cmd[:2])} failed ({type(e).__name__})")
    log("note: Node peers (bullmq, bee-queue) skipped: their npm packages could not be installed")


class NodeAdapter(Adapter):
    kind = "node"
    package = "?"
    script = "?"
    has_bulk = True

    def unavailable(self):
        return node_unavailable(self.package)

    def version(self):
        try:
            with open(NODE_DIR / "node_modules" / self.package / "package.json") as f:
                return json.load(f)["version"]
        except OSError:
            return "?"

    def _node(self, *args, timeout=900):
        env = dict(os.environ, BENCH_URL=self.url)
        proc = subprocess.run(["node", self.script, *map(str, args)], cwd=NODE_DIR, env=env,
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"node {self.script} {' '.join(map(str, args))} failed:\n{proc.stderr[-2000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def enqueue(self, n):
        return self._node("enqueue", n)["seconds"]

    def enqueue_bulk(self, n):
        return self._node("enqueue_bulk", n)["seconds"]

    def fill(self, n):
        self._node("fill", n)

    def produce_paced(self, m, rate):
        self._node("produce", m, rate)

    def worker_argv(self, mode, concurrency, variant=""):
        return ["node", str(NODE_DIR / self.script), "worker", mode, str(concurrency)]
