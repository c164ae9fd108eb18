"""The operator's command line: each verb in-process on both backends, then over a real subprocess on the real
Redis (database 1), with the ways a command can end badly (a closed pipe, a taken port, Ctrl-C) and the worker's
log as a subprocess writes it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures import REAL_REDIS_URL

from queuekit import Worker
from queuekit.cli import _server_of, main

# ---- in-process, on both backends -----------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``queuekit argv...`` in this process: (status, stdout, stderr)."""
    status = main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    status, out, err = run(capsys, *argv, "--json")
    assert status == 0, err
    return json.loads(out)


def _failing(job):
    job.log("tried %s", job.data["to"])
    raise ValueError("no such mailbox")


def test_job_show_gives_data_options_state_attempts_with_tracebacks_and_logs(queue, capsys):
    # Given a job that failed for good after logging a line
    job = queue.add("email", {"to": "ada"}, attempts=1, priority="high")
    Worker(queue, {"email": _failing}).drain()

    # When `queuekit job show ID` runs, as JSON and as text
    doc = run_json(capsys, "job", "show", job.id, "--queue", "test")
    status, text, err = run(capsys, "--queue", "test", "job", "show", job.id)

    # Then both have everything about the job
    assert (doc["id"], doc["type"], doc["state"], doc["data"], doc["queue"]) == (job.id, "email", "failed",
                                                                                 {"to": "ada"}, "test")
    assert doc["options"]["priority"] == -10 and doc["error"] == "no such mailbox"
    assert len(doc["attempts"]) == 1 and "ValueError: no such mailbox" in doc["attempts"][0]["traceback"]
    assert doc["logs"] == ["tried ada"] and doc["progress"] == {"percent": 0, "data": None}
    assert status == 0 and f"job #{job.id}  email  queue test  failed" in text
    assert "ValueError: no such mailbox" in text and "tried ada" in text


def test_job_show_of_an_unknown_id_is_a_one_line_error(queue, capsys):
    status, out, err = run(capsys, "job", "show", "999", "--queue", "test")
    assert status == 1 and err.strip().endswith("queuekit: error: no job 999 in queue test") and out == ""


def test_pause_and_resume(queue, capsys):
    assert run_json(capsys, "pause", "--queue", "test") == {"queue": "test", "paused": True}
    assert queue.paused
    status, out, _ = run(capsys, "--queue", "test", "resume")
    assert status == 0 and out == "queue test resumed\n" and not queue.paused


def test_clean_keeps_the_newest_or_removes_by_age(queue, capsys):
    # Given three complete jobs
    for _ in range(3):
        queue.add("t")
    Worker(queue, {"t": lambda j: 1}).drain()

    # Then clean --older-than an hour removes none, --keep 1 two of them
    assert run_json(capsys, "clean", "complete", "--older-than", "3600000", "-q", "test")["removed"] == 0
    assert run_json(capsys, "clean", "complete", "--keep", "1", "-q", "test") == {
        "queue": "test", "state": "complete", "removed": 2}
    assert queue.counts()["complete"] == 1
    with pytest.raises(SystemExit) as refused:
        main(["clean", "active", "-q", "test"])
    assert refused.value.code == 2 and "invalid choice: 'active'" in capsys.readouterr().err


def test_empty_removes_waiting_and_delayed_jobs_only(queue, capsys):
    # Given a complete job, two waiting ones of two types and a delayed one
    done = queue.add("t")
    Worker(queue, {"t": lambda j: 1}).drain()
    waiting = [queue.add("t"), queue.add("other", {"n": 1})]
    delayed = queue.add("t", delay=60_000)

    # When `queuekit empty` runs
    doc = run_json(capsys, "empty", "--queue", "test")

    # Then the three are gone, with their hashes, and the complete one stays
    assert doc == {"queue": "test", "removed": 3}
    assert queue.counts() == {"inactive": 0, "active": 0, "delayed": 0, "complete": 1, "failed": 0}
    assert all(queue.get_job(j.id) is None for j in [*waiting, delayed]) and queue.get_job(done.id) is not None


def test_queue_empty_goes_on_past_one_script_call(queue):
    queue.add_bulk([("t", {"n": n}) for n in range(1500)] + [("u", None)] * 600)
    assert queue.empty() == 2100 and queue.counts()["inactive"] == 0


def test_obliterate_asks_on_a_terminal_and_deletes_only_once_the_name_is_typed(queue, capsys, monkeypatch):
    # Given a queue with a job, and a terminal on stdin
    job = queue.add("t")
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    answers = iter(["yes", "test"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))

    # When the answer is not the queue's name, nothing is deleted
    status, _, err = run(capsys, "obliterate", "-q", "test")
    assert status == 1 and "not confirmed; nothing deleted" in err and queue.get_job(job.id) is not None

    # When it is, the queue is gone
    status, out, _ = run(capsys, "obliterate", "-q", "test")
    assert status == 0 and out.startswith("queue test obliterated: ") and queue.get_job(job.id) is None


def test_remove_refuses_unknown_ids_and_removes_nothing(queue, capsys):
    a, b = queue.add("t"), queue.add("t")
    status, _, err = run(capsys, "remove", a.id, "404", "-q", "test")
    assert status == 1 and "no job 404 in queue test; nothing changed" in err and queue.get_job(a.id) is not None
    assert run_json(capsys, "remove", a.id, b.id, "-q", "test") == {"queue": "test", "removed": [a.id, b.id]}
    assert queue.get_job(a.id) is None


def test_retry_needs_ids_or_all_and_refuses_unknown_or_unfailed_jobs(queue, capsys):
    # Given two failed jobs and a complete one
    failed = [queue.add("bad"), queue.add("bad")]
    ok = queue.add("good")
    Worker(queue, {"bad": _failing, "good": lambda j: 1}).drain()

    # Then retry with nothing named, an unknown id, or a complete job is an error that changes nothing
    for argv, says in ((["retry"], "name the failed jobs to retry"), (["retry", "77"], "no job 77"),
                       (["retry", failed[0].id, ok.id], f"{ok.id} is complete")):
        status, _, err = run(capsys, *argv, "-q", "test")
        assert status == 1 and says in err, err
    assert queue.counts()["failed"] == 2

    # When one is retried by id, then the rest with --all
    assert run_json(capsys, "retry", failed[0].id, "-q", "test")["retried"] == [failed[0].id]
    assert queue.get_job(failed[0].id).state == "inactive"
    status, out, _ = run(capsys, "-q", "test", "retry", "--all")
    assert status == 0 and out == f"1 job(s) back in line: {failed[1].id}\n"


def test_jobs_lists_a_state_says_when_there_are_none_and_documents_its_states(queue, capsys):
    job = queue.add("t", {"n": 1})
    status, out, _ = run(capsys, "jobs", "test")
    assert status == 0 and out == "no failed jobs in queue test\n"
    status, out, _ = run(capsys, "jobs", "--state", "inactive", "-q", "test")
    assert out == f"#{job.id}  t  inactive  attempts 0\n"
    assert [j["id"] for j in run_json(capsys, "jobs", "--state", "inactive", "-q", "test")] == [job.id]
    with pytest.raises(SystemExit):
        main(["jobs", "--help"])
    assert "--state {inactive,active,delayed,complete,failed}" in capsys.readouterr().out


def test_global_options_work_before_and_after_the_verb(queue, capsys):
    queue.add("t")
    before = run(capsys, "--json", "--queue", "test", "jobs", "--state", "inactive")
    after = run(capsys, "jobs", "--state", "inactive", "--queue", "test", "--json")
    assert before == after and json.loads(before[1])[0]["type"] == "t"


def test_each_command_names_its_server_or_warns_that_it_is_private(backend, queue, capsys):
    _, _, err = run(capsys, "jobs", "-q", "test")
    if backend.url is None:
        assert "private in-process server; it sees nothing of other processes" in err
    else:
        assert err.startswith("queuekit: on Redis at 127.0.0.1:6379/1\n") and "private" not in err


def test_the_server_is_named_without_its_password():
    assert _server_of("redis://ada:s3cret@db.example:6380/2") == "Redis at db.example:6380/2"
    assert _server_of("rediss://db.example") == "Redis at db.example:6379/0"


# ---- over a real subprocess, on the real Redis ---------------------------------------------------------------

def cli(*args: str, url: str | None = REAL_REDIS_URL, timeout: float = 60, **kw) -> subprocess.CompletedProcess[str]:
    """``python -m queuekit.cli args...`` in a child (PYTHONPATH and the rest of the environment inherited)."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    if url:
        env["REDIS_URL"] = url
    return subprocess.run([sys.executable, "-m", "queuekit.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, **kw)


def _child_env(url: str | None = REAL_REDIS_URL) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    return {**env, "REDIS_URL": url} if url else env


def _json(out: subprocess.CompletedProcess[str]) -> object:
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    return json.loads(out.stdout)


@pytest.mark.realredis
def test_every_verb_over_a_subprocess(real_redis, tmp_path):
    from queuekit import Queue

    queue = Queue("ops", url=REAL_REDIS_URL)
    bad = queue.add("bad", {"to": "ada"})
    ok = queue.add("good")
    Worker(queue, {"bad": _failing, "good": lambda j: 1}).drain()
    queue.add("later", delay=60_000)

    info = _json(cli("info", "--json"))
    assert info["ops"]["counts"] == {"inactive": 0, "active": 0, "delayed": 1, "complete": 1, "failed": 1}
    assert [j["id"] for j in _json(cli("jobs", "ops", "--json"))] == [bad.id]
    shown = _json(cli("--queue", "ops", "job", "show", bad.id, "--json"))
    assert shown["logs"] == ["tried ada"] and "ValueError" in shown["attempts"][0]["traceback"]
    assert _json(cli("pause", "-q", "ops", "--json"))["paused"] is True and queue.paused
    assert _json(cli("resume", "-q", "ops", "--json"))["paused"] is False and not queue.paused
    assert _json(cli("retry", bad.id, "-q", "ops", "--json"))["retried"] == [bad.id]
    assert _json(cli("remove", bad.id, "-q", "ops", "--json"))["removed"] == [bad.id]
    assert _json(cli("clean", "complete", "-q", "ops", "--json"))["removed"] == 1
    assert _json(cli("empty", "-q", "ops", "--json"))["removed"] == 1
    assert queue.counts() == dict.fromkeys(("inactive", "active", "delayed", "complete", "failed"), 0)
    assert ok.id  # (the complete one went with clean)

    # obliterate: refused without a terminal unless --yes, and nothing is deleted then
    refused = cli("obliterate", "-q", "ops", stdin=subprocess.DEVNULL)
    assert refused.returncode == 1 and "confirm with --yes" in refused.stderr and real_redis.client.keys("qk:{ops}*")
    assert _json(cli("obliterate", "--yes", "-q", "ops", "--json"))["deleted_keys"] > 0
    assert real_redis.client.keys("qk:{ops}*") == []


@pytest.mark.realredis
def test_the_subprocess_names_its_server_and_warns_without_redis_url(real_redis):
    named = cli("jobs", "-q", "ops")
    assert named.returncode == 0 and "queuekit: on Redis at 127.0.0.1:6379/1" in named.stderr
    private = cli("jobs", "-q", "ops", url=None)
    assert private.returncode == 0 and "queuekit: warning: no REDIS_URL and no --url" in private.stderr
    assert private.stdout == "no failed jobs in queue ops\n"


@pytest.mark.realredis
def test_a_closed_pipe_ends_in_one_line_not_a_traceback(real_redis):
    # Given far more jobs than a pipe holds
    from queuekit import Queue

    Queue("ops", url=REAL_REDIS_URL).add_bulk([("t", {"n": n}) for n in range(3000)])

    # When the reader of `queuekit jobs` stops after one line, as `| head -1` does
    proc = subprocess.Popen([sys.executable, "-m", "queuekit.cli", "jobs", "ops", "--state", "inactive", "--count",
                             "3000"], env=_child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().startswith("#1  t  inactive")
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)

    # Then it ends with a one-line message and a non-zero status
    assert proc.returncode == 141 and "Traceback" not in err, err
    assert err.splitlines()[-1] == "queuekit: output closed early (broken pipe)"

    # ... and so does a real `| head -1`
    shell = subprocess.run(f"{sys.executable} -m queuekit.cli jobs ops --state inactive --count 3000 | head -1",
                           shell=True, env=_child_env(), capture_output=True, text=True, timeout=60)
    assert shell.stdout == "#1  t  inactive  attempts 0\n" and "Traceback" not in shell.stderr


def test_a_busy_port_ends_in_one_line_not_a_traceback():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = cli("server", "--port", str(port), url=None, timeout=30)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip() == (f"queuekit: error: cannot listen on 127.0.0.1:{port}: Address already in use; "
                                  "choose another port with --port (0 picks a free one)")


@pytest.mark.realredis
def test_info_interval_refreshes_until_ctrl_c_which_ends_in_one_line(real_redis):
    # Given `queuekit info --interval 0.2` running on a queue
    from queuekit import Queue

    Queue("ops", url=REAL_REDIS_URL).add("t")
    proc = subprocess.Popen([sys.executable, "-m", "queuekit.cli", "info", "--interval", "0.2", "-q", "ops"],
                            env=_child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # When it has refreshed twice, and Ctrl-C is pressed
        assert proc.stdout is not None
        seen = [proc.stdout.readline() for _ in range(6)]
        assert sum(line.startswith("ops: inactive 1") for line in seen) >= 2, seen
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)

    # Then it ends with one line and status 130, no traceback
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert err.splitlines()[-1] == "queuekit: interrupted"


# ---- the worker's log, as a worker process writes it ---------------------------------------------------------

def _worker(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "log_handlers.py").write_text(
        "def fail(job):\n    raise ValueError('no such mailbox')\n\nhandlers = {'ok': lambda job: 1, 'fail': fail}\n")
    return subprocess.run([sys.executable, "-m", "queuekit.cli", "worker", "log_handlers", "--queue", "logs",
                           "--burst", *args], env=_child_env(), cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.realredis
def test_the_worker_logs_one_json_object_per_line_with_the_job_fields(real_redis, tmp_path):
    from queuekit import Queue

    queue = Queue("logs", url=REAL_REDIS_URL)
    ok, bad = queue.add("ok"), queue.add("fail")
    out = _worker(tmp_path, "--log-format", "json")
    assert out.returncode == 0, out.stderr
    records = [json.loads(line) for line in out.stderr.splitlines() if line.startswith("{")]
    assert len(records) == len([line for line in out.stderr.splitlines() if line.strip()])  # every line
    assert records[0]["message"] == "on Redis at 127.0.0.1:6379/1" and records[0]["logger"] == "queuekit.cli"
    by_job = {(r.get("job_id"), r["message"].split(" ")[3]): r for r in records if r.get("job_id")}
    done = by_job[(ok.id, "completed")]
    assert {"time", "level", "logger", "message"} <= set(done) and done["level"] == "INFO"
    assert (done["job_type"], done["queue"], done["logger"]) == ("ok", "logs", "queuekit.worker.runner")
    assert isinstance(done["duration_ms"], int)
    failed = [r for r in records if r.get("job_id") == bad.id and r["level"] == "WARNING"]
    assert failed and failed[0]["error"] == "no such mailbox"
    assert not any("traceback" in r["message"] for r in records)


@pytest.mark.realredis
def test_dash_v_adds_the_tracebacks_but_not_redis_pys_debug(real_redis, tmp_path):
    from queuekit import Queue

    Queue("logs", url=REAL_REDIS_URL).add("fail")
    quiet = _worker(tmp_path)
    Queue("logs", url=REAL_REDIS_URL).add("fail")
    loud = _worker(tmp_path, "-v")
    assert quiet.returncode == loud.returncode == 0, loud.stderr
    assert "attempt 1 of 1 failed after" in quiet.stderr and "Traceback" not in quiet.stderr
    assert "traceback:\nTraceback" in loud.stderr and "ValueError: no such mailbox" in loud.stderr
    loggers = {line.split(" ")[3] for line in loud.stderr.splitlines() if line[:2] == "20" and " DEBUG " in line}
    assert loggers and all(name.startswith("queuekit") for name in loggers), loggers


def test_a_worker_started_with_no_redis_url_is_warned(tmp_path):
    out = subprocess.run([sys.executable, "-m", "queuekit.cli", "worker", "nothing_here"], env=_child_env(None),
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "private in-process server" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.realredis
def test_queuekit_metrics_serves_the_queues_metrics_until_ctrl_c(real_redis):
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    from queuekit import Queue

    # Given a queue with three waiting jobs on the real Redis, and `queuekit metrics` on a free port
    queue = Queue("metered", url=REAL_REDIS_URL)
    for n in range(3):
        queue.add("mail", {"n": n})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "queuekit.cli", "metrics", "--port", str(port)],
                            env=_child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and "/metrics" in proc.stdout.readline()

        # When Prometheus scrapes it
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()

        # Then the waiting jobs are there, as the queue counts them
        samples = [s for family in text_string_to_metric_families(text) for s in family.samples
                   if s.name == "queuekit_jobs" and s.labels["queue"] == "metered" and s.labels["state"] == "inactive"]
        assert [(s.labels["type"], s.value) for s in samples] == [("mail", 3.0)]
    finally:
        # ... and Ctrl-C ends it in one line
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=10)
        queue.obliterate()
        queue.close()
    assert proc.returncode == 130 and "Traceback" not in err and "interrupted" in err


def test_the_demo_then_its_dashboard_on_the_embedded_server_until_ctrl_c():
    import urllib.request

    # Given `queuekit demo --dashboard` on a free port, with no Redis at all (the embedded default)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "queuekit.cli", "demo", "--dashboard", "--port", str(port)],
                            env=_child_env(None), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # When the demo has run and says where its dashboard is
        assert proc.stdout is not None
        lines = []
        while not lines or "dashboard at" not in lines[-1]:
            line = proc.stdout.readline()
            assert line, f"the demo ended without a dashboard: {lines}"
            lines.append(line)

        # Then Kue's stats of the demo's queue are served, at the root as Kue had them and under /api/queues/demo
        stats = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10).read())
        assert stats["completeCount"] == 5 and stats["failedCount"] == 1
        api = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/queues/demo/stats", timeout=10).read())
        assert api == stats
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=15)
    assert proc.returncode in (0, 130) and "Traceback" not in err, err
