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
    cmd = [npm, "ci"] if (NODE_DIR / "package-lock.json").exists() else [npm, "install"]
    cmd += ["--no-audit", "--no-fund"]
    log(f"installing Node peers: {' '.join(cmd)} (in bench/node)")
    try:
        subprocess.run(cmd, cwd=NODE_DIR, check=True, capture_output=True, timeout=600)
    except Exception as e:  # noqa: BLE001 - any failure means: skip the Node peers
        log(f"note: npm failed ({e}); Node peers skipped")


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
