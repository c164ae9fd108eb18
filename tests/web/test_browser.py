"""The dashboard's pages in a real browser: Debian's headless Chromium driven by Playwright, on both backends.

Each test serves the app with uvicorn in a thread (``serve`` of conftest.py), opens a page, and fails on any console
error, any uncaught exception in a page, and any request to a host other than 127.0.0.1 (each is aborted and
recorded: the dashboard must work offline). Chromium comes from the distribution (``apt-get install chromium``,
``.ci/run`` installs it when missing), never from ``playwright install``.

Set ``QUEUEKIT_SCREENSHOTS=docs/img`` to write the README's screenshots (dashboard-overview.png, dashboard-queue.png,
dashboard-job.png) from the real-Redis run; otherwise they go to the test's temporary directory.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fixtures import Backend, snapshot, wait_until

from queuekit import Queue, Worker
from queuekit.web import create_app

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: how long a page may take to show what a test waits for (ms)
WAIT_MS = 10_000
sync_api.expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@dataclass
class Tab:
    """A page of the dashboard, with what went wrong in it."""

    page: Any
    base: str
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def open(self, path: str = "/") -> Any:
        self.page.goto(self.base + path)
        return self.page

    def wait_live(self) -> None:
        """Wait until the page listens to its queue's event stream (what happens before is not heard)."""
        sync_api.expect(self.page.locator("html")).to_have_attribute("data-live", "open")

    def assert_clean(self, allowed: Callable[[str], bool] = lambda text: False) -> None:
        """No console error, no uncaught exception (but those ``allowed``), no request beyond 127.0.0.1."""
        assert [e for e in self.errors if not allowed(e)] == []
        assert self.outside == []


@pytest.fixture
def tab(browser: Any, serve: Callable[[Any], str], tmp_path: Path) -> Iterator[Callable[..., Tab]]:
    """``tab(app)``: serve ``app`` and open a fresh browser context on it."""
    contexts: list[Any] = []

    def make(app: Any) -> Tab:
        base = serve(app)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        opened = Tab(page, base)

        def on_console(message: Any) -> None:
            if message.type == "error":
                opened.errors.append(f"console: {message.text} ({message.location.get('url', '')})")

        def guard(route: Any) -> None:
            url = route.request.url
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob") or parts.hostname == "127.0.0.1":
                route.continue_()
            else:
                opened.outside.append(url)
                route.abort()

        page.on("console", on_console)
        page.on("pageerror", lambda exc: opened.errors.append(f"pageerror: {exc}"))
        page.on("dialog", lambda dialog: dialog.accept())
        page.route("**/*", guard)
        return opened

    yield make
    for context in contexts:
        context.close()


def screenshot(page: Any, name: str, backend: Backend, tmp_path: Path) -> None:
    """Save a picture of the page: into $QUEUEKIT_SCREENSHOTS on the real-Redis run, else into tmp_path."""
    target = os.environ.get("QUEUEKIT_SCREENSHOTS")
    folder = Path(target) if target and backend.name == "redis" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)
    assert (folder / name).stat().st_size > 10_000


def _smtp_down(job: Any) -> None:
    job.log(f"connecting to smtp for {job.data['to']}")
    raise TimeoutError("smtp: connection timed out")


def _failed(queue: Queue, n: int = 1) -> list[str]:
    """``n`` email jobs failed for good (a worker drains them), each with a log line and a traceback."""
    ids = [queue.add("email", {"to": f"user{k}@example.com", "subject": "welcome"}).id for k in range(n)]
    Worker(queue, {"email": _smtp_down}).drain()
    assert all(queue.get_job(i).state == "failed" for i in ids)
    return ids


def _mixed(queue: Queue) -> None:
    """A queue with jobs in several states and two types, for the pictures."""
    for k in range(6):
        queue.add("resize", {"image": f"photo-{k}.jpg", "width": 640})
    Worker(queue, {"resize": lambda job: {"bytes": 52_000}}).drain()
    _failed(queue, 3)
    for k in range(4):
        queue.add("email", {"to": f"later{k}@example.com"}, delay=3_600_000 if k % 2 else 0)
    queue.add("report", {"month": "2026-11"})


def test_overview_loads_with_no_console_error(backend, queue, tab, worker, tmp_path):
    _mixed(queue)
    t = tab(create_app(client=backend.client))
    page = t.open("/")

    card = page.locator("section.card", has=page.get_by_role("heading", name="test"))
    sync_api.expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    sync_api.expect(card.locator('a[data-state="complete"]')).to_have_text("6")
    sync_api.expect(card.locator('a[data-state="failed"]')).to_have_text("3")
    # waiting email and report jobs and no live worker: the page says so in words
    sync_api.expect(card.locator(".warning")).to_contain_text("no live worker serves email (4 waiting), report")
    sync_api.expect(page.get_by_role("heading", name="Redis")).to_be_visible()
    sync_api.expect(page.locator("dd code")).not_to_be_empty()

    # a worker runs: the counts and the throughput chart follow it, and the worker is listed with its job
    for k in range(60):
        queue.add("thumb", {"n": k})
    worker({"thumb": lambda job: time.sleep(0.15)})
    sync_api.expect(card.get_by_role("heading", name="Live workers (1)")).to_be_visible()
    sync_api.expect(card.locator("ul.workers")).to_contain_text("running thumb #")
    sync_api.expect(card.locator("figure.throughput polyline")).to_have_count(2)
    sync_api.expect(card.locator("figcaption")).not_to_contain_text(" 0 completed")
    sync_api.expect(card.locator("figcaption")).to_contain_text("failure rate")
    screenshot(page, "dashboard-overview.png", backend, tmp_path)
    t.assert_clean()


def test_a_failed_jobs_traceback_and_log_are_on_its_page(backend, queue, tab, tmp_path):
    _mixed(queue)
    [job_id] = _failed(queue)
    t = tab(create_app(client=backend.client))
    page = t.open(f"/#/queue/test/job/{job_id}")

    sync_api.expect(page.get_by_role("heading", name=f"Job #{job_id}")).to_be_visible()
    tracebacks = page.locator("pre.traceback")
    sync_api.expect(tracebacks).to_have_count(queue.get_job(job_id).opts.attempts)
    sync_api.expect(tracebacks.first).to_contain_text("TimeoutError: smtp: connection timed out")
    sync_api.expect(tracebacks.first).to_contain_text("_smtp_down")
    sync_api.expect(page.locator("ol.log")).to_contain_text("connecting to smtp for user0@example.com")
    sync_api.expect(page.locator("pre.json").first).to_contain_text('"subject": "welcome"')
    sync_api.expect(page.locator("h1 .badge")).to_have_text("failed")
    screenshot(page, "dashboard-job.png", backend, tmp_path)
    t.assert_clean()


def test_a_retry_clicked_in_the_page_puts_the_job_back_in_line(backend, queue, tab):
    [job_id] = _failed(queue)
    t = tab(create_app(client=backend.client))
    page = t.open(f"/#/queue/test/job/{job_id}")

    page.get_by_role("button", name="Retry", exact=True).click()

    wait_until(lambda: queue.get_job(job_id).state == "inactive", message="the job waiting again")
    sync_api.expect(page.locator("h1 .badge")).to_have_text("waiting")
    sync_api.expect(page.get_by_role("button", name="Retry", exact=True)).to_have_count(0)
    assert queue.client.lrange(queue.keys.audit, 0, -1)  # the action is in the audit log
    t.assert_clean()


def test_a_count_updates_live_while_a_worker_runs(backend, queue, tab, worker, tmp_path):
    _mixed(queue)
    for k in range(20):
        queue.add("thumb", {"n": k})
    t = tab(create_app(client=backend.client))
    page = t.open("/#/queue/test?state=complete")
    complete = page.locator('.tabs .count[data-state="complete"]')
    sync_api.expect(complete).to_have_text("6")
    page.evaluate("window.__notReloaded = true")
    t.wait_live()

    def thumb(job: Any) -> None:
        time.sleep(0.05)

    worker({"thumb": thumb})

    sync_api.expect(complete).to_have_text("26", timeout=WAIT_MS)
    assert page.evaluate("window.__notReloaded") is True  # updated in place, not by loading the page again
    sync_api.expect(page.locator("table.jobs tbody tr")).to_have_count(20)  # the list followed the events
    screenshot(page, "dashboard-queue.png", backend, tmp_path)
    t.assert_clean()


def test_search_finds_a_job_by_a_word_of_its_data(backend, queue, tab):
    ada = queue.add("email", {"to": "ada@example.com", "body": "your invoice is ready"})
    bob = queue.add("email", {"to": "bob@example.com", "body": "welcome aboard"})
    t = tab(create_app(client=backend.client))
    page = t.open("/#/queue/test")

    page.get_by_label("Search jobs").fill("invoice")
    page.get_by_role("button", name="Search").click()

    results = page.locator(".results")
    sync_api.expect(results).to_contain_text('1 job match "invoice"')
    sync_api.expect(results.get_by_role("link", name=f"#{ada.id}")).to_be_visible()
    sync_api.expect(results.get_by_role("link", name=f"#{bob.id}")).to_have_count(0)
    t.assert_clean()


def test_read_only_shows_no_action_and_refuses_a_forged_one(backend, queue, tab):
    _mixed(queue)
    [job_id] = _failed(queue)
    t = tab(create_app(client=backend.client, read_only=True))
    allowed = {"Search"}  # the only buttons a read-only page may have: none of them acts

    for path, ready in ((f"/#/queue/test/job/{job_id}", "pre.traceback"), ("/#/queue/test?state=failed", "table.jobs"),
                        ("/", "section.card")):
        page = t.open(path)
        sync_api.expect(page.locator(ready).first).to_be_visible()
        sync_api.expect(page.locator("#mode")).to_contain_text("Read-only")
        page.wait_for_load_state("networkidle")
        assert set(page.get_by_role("button").all_inner_texts()) <= allowed, path
        assert page.locator("input[type=checkbox], select#priority").count() == 0, path

    before = snapshot(backend.client)
    status = page.evaluate(f"fetch('api/queues/test/job/{job_id}/retry', {{method: 'POST'}}).then(r => r.status)")
    assert status == 403
    assert queue.get_job(job_id).state == "failed"
    assert snapshot(backend.client) == before
    t.assert_clean(allowed=lambda text: "status of 403" in text)  # the forged request's own refusal, nothing else


def test_a_page_opened_with_the_token_keeps_it_and_hides_it(backend, queue, tab):
    [job_id] = _failed(queue)
    t = tab(create_app(client=backend.client, token="s3cret"))
    page = t.open(f"/?token=s3cret#/queue/test/job/{job_id}")

    sync_api.expect(page.locator("pre.traceback").first).to_be_visible()
    assert "s3cret" not in page.url
    page.get_by_role("button", name="Retry", exact=True).click()
    wait_until(lambda: queue.get_job(job_id).state == "inactive", message="the job waiting again")
    t.assert_clean()


def test_the_queue_pages_actions_act_through_the_library(backend, queue, tab):
    ids = _failed(queue, 3)
    t = tab(create_app(client=backend.client))
    page = t.open("/#/queue/test?state=failed")
    groups = page.locator("table.failures tbody tr")
    sync_api.expect(groups).to_have_count(1)
    sync_api.expect(groups.first).to_contain_text("smtp: connection timed out")
    sync_api.expect(groups.first.locator("td").first).to_have_text("3")

    page.get_by_label(f"select job {ids[0]}").check()
    page.get_by_role("button", name="Retry selected").click()
    wait_until(lambda: queue.get_job(ids[0]).state == "inactive", message="the selected job waiting again")
    sync_api.expect(page.locator('.tabs .count[data-state="failed"]')).to_have_text("2")
    sync_api.expect(groups.first.locator("td").first).to_have_text("2")

    page.get_by_role("button", name="Remove group").click()  # its confirmation is accepted
    wait_until(lambda: queue.get_job(ids[1]) is None and queue.get_job(ids[2]) is None, message="the group removed")
    sync_api.expect(page.locator("table.failures")).to_have_count(0)

    page.get_by_role("button", name="Pause").click()
    wait_until(lambda: queue.paused, message="the queue paused")
    sync_api.expect(page.locator("h1 .badge")).to_have_text("paused")
    page.get_by_role("button", name="Resume").click()
    wait_until(lambda: not queue.paused, message="the queue resumed")
    t.assert_clean()


def test_the_job_pages_actions_and_the_workers_and_audit_pages(backend, queue, tab, worker):
    delayed = queue.add("email", {"to": "ada@example.com"}, delay=3_600_000)
    t = tab(create_app(client=backend.client))
    page = t.open(f"/#/queue/test/job/{delayed.id}")
    sync_api.expect(page.locator("h1 .badge")).to_have_text("delayed")

    page.get_by_label("Priority", exact=True).select_option("high")
    page.get_by_role("button", name="Change priority").click()
    wait_until(lambda: queue.get_job(delayed.id).opts.priority == -10, message="the priority changed")
    page.get_by_role("button", name="Promote").click()
    wait_until(lambda: queue.get_job(delayed.id).state == "inactive", message="the job promoted")
    sync_api.expect(page.locator("h1 .badge")).to_have_text("waiting")

    slow = queue.add("render", {"frames": 100})
    release = threading.Event()

    def render(job: Any) -> None:
        job.progress(40, 100)
        release.wait(10)

    worker({"render": render})
    page = t.open("/#/workers")
    row = page.locator("tbody tr")
    sync_api.expect(row).to_have_count(1)
    sync_api.expect(row).to_contain_text(f"render #{slow.id}")
    sync_api.expect(row).to_contain_text("40%")
    release.set()

    page = t.open("/#/audit")
    actions = page.locator("tbody th")
    sync_api.expect(actions).to_have_text(["promote", "priority"])
    t.assert_clean()


def test_hostile_text_is_shown_as_text_never_run(backend, queue, tab):
    html = '<img src="x" onerror="window.__pwned = 1"><script>window.__pwned = 2</script>'

    def fail(job: Any) -> None:
        raise ValueError(html)

    job = queue.add("email", {"note": html})
    Worker(queue, {"email": fail}).drain()
    t = tab(create_app(client=backend.client))

    for path in (f"/#/queue/test/job/{job.id}", "/#/queue/test?state=failed&q=onerror"):
        page = t.open(path)
        sync_api.expect(page.locator("main")).to_contain_text('<img src="x" onerror=')
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__pwned") is None
        assert page.locator("main img, main script").count() == 0
    t.assert_clean()


def test_the_pages_work_mounted_under_a_path(backend, queue, tab):
    from starlette.applications import Starlette
    from starlette.routing import Mount

    [job_id] = _failed(queue)
    t = tab(Starlette(routes=[Mount("/ops/queues", create_app(client=backend.client))]))

    page = t.open(f"/ops/queues/#/queue/test/job/{job_id}")
    sync_api.expect(page.locator("pre.traceback").first).to_contain_text("TimeoutError")
    page.get_by_role("button", name="Retry", exact=True).click()
    wait_until(lambda: queue.get_job(job_id).state == "inactive", message="the job waiting again")
    t.assert_clean()


def test_the_pages_name_no_address_beyond_the_dashboard():
    """Nothing in the shipped assets points at another host (fonts, scripts, styles all come from the package)."""
    static = Path(create_app.__code__.co_filename).parent / "static"
    files = [f for f in static.rglob("*") if f.is_file()]
    assert {f.suffix for f in files} == {".html", ".css", ".js"}
    for f in files:
        text = f.read_text().replace('"http://www.w3.org/2000/svg"', "")  # an SVG namespace, never fetched
        assert "http:" not in text and "https:" not in text and "//" + "cdn" not in text, f
        assert "@import" not in text and "url(" not in text, f


def test_a_jobs_page_follows_its_progress_and_its_end_live(backend, queue, tab, worker):
    job = queue.add("render", {"frames": 10})
    halfway = threading.Event()

    def render(j: Any) -> dict[str, int]:
        j.progress(5, 10)
        halfway.wait(10)
        return {"frames": 10}

    t = tab(create_app(client=backend.client))
    page = t.open(f"/#/queue/test/job/{job.id}")
    sync_api.expect(page.locator("h1 .badge")).to_have_text("waiting")
    page.evaluate("window.__notReloaded = true")
    t.wait_live()

    worker({"render": render})
    sync_api.expect(page.locator("h1 .badge")).to_have_text("active")
    sync_api.expect(page.get_by_role("region", name="Progress")).to_contain_text("50%")
    halfway.set()
    sync_api.expect(page.locator("h1 .badge")).to_have_text("complete")
    sync_api.expect(page.get_by_role("region", name="Result")).to_contain_text('"frames": 10')
    assert page.evaluate("window.__notReloaded") is True
    t.assert_clean()
