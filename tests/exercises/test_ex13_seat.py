"""Grader of task 13 (exercises/ex13_seat.py): seats, a reserve_seat queue, exact JSON, never more than 50."""

from __future__ import annotations

import asyncio
import re
import threading
import time

import fakeredis
import httpx
import pytest
import redis
from exercise_support import call, load, show_lines, start_app, wait_until

from queuekit import Queue
from queuekit.keys import QueueKeys

ex = load("ex13_seat.py", "reserve_seat", "get_current_available_seats", "process_reservation", "app", "state")
pytestmark = pytest.mark.task(13)

IN_PROCESS = b'{"status":"Reservation in process"}'
BLOCKED = b'{"status":"Reservation are blocked"}'
FAILED = b'{"status":"Reservation failed"}'
PROCESSING = b'{"status":"Queue processing"}'
#: the app runs on a server that already holds jobs: its first job is 52, as in the statement's sample
FIRST_ID = 52


def _own_client() -> fakeredis.FakeRedis:
    """A client on a store of its own, not the default one: a function that ignores the client it is given is
    caught."""
    return fakeredis.FakeRedis(server=fakeredis.FakeServer(version=(7, 0)), decode_responses=True)


def test_seat_functions(store) -> None:
    client = _own_client()
    call(ex.reserve_seat, client, 7)
    assert client.get("available_seats") == "7", (
        f"reserve_seat(client, 7) should set available_seats to 7, with the client it is given; it holds "
        f"{client.get('available_seats')!r}")
    got = call(ex.get_current_available_seats, client)
    assert got == "7", f"get_current_available_seats(client) returned {got!r}; expected the string '7'"
    call(ex.reserve_seat, client, 50)
    got = call(ex.get_current_available_seats, client)
    assert got == "50", f"after reserve_seat(client, 50), get_current_available_seats(client) returned {got!r}"


def test_process_reservation_takes_one_seat_and_stops_at_zero(client) -> None:
    ex.state["client"] = None  # the app's client is created again, on this test's store
    ex.state["reservation_enabled"] = True
    client.set("available_seats", 2)
    call(ex.process_reservation, None)
    assert client.get("available_seats") == "1", (
        f"with 2 seats, process_reservation(job) should leave 1; available_seats is {client.get('available_seats')!r}")
    assert ex.state["reservation_enabled"] is True, "with 1 seat left, reservations should still be on"
    call(ex.process_reservation, None)
    assert client.get("available_seats") == "0" and ex.state["reservation_enabled"] is False, (
        "taking the last seat should leave 0 and set state['reservation_enabled'] to False; got "
        f"{client.get('available_seats')!r} and {ex.state['reservation_enabled']!r}")
    with pytest.raises(Exception) as info:
        ex.process_reservation(None)
    assert str(info.value) == "Not enough seats available", (
        f"with 0 seats, process_reservation should raise Exception('Not enough seats available'); it raised "
        f"{type(info.value).__name__}({str(info.value)!r})")
    assert client.get("available_seats") == "0", (
        f"a failed reservation must not change the count: available_seats is {client.get('available_seats')!r}")


class _Lockstep:
    """The app's client during the race below: each thread's first command, once run, waits until every thread has
    run its first one. So threads that start by reading the count all read the same one, every time (a
    read-then-write is caught whatever the load), while a DECR stays right: Redis runs it whole."""

    def __init__(self, client: fakeredis.FakeRedis, parties: int) -> None:
        self._client = client
        self.barrier = threading.Barrier(parties, timeout=15)
        self._seen: set[int] = set()
        self._guard = threading.Lock()
        self.commands = 0

    def arrive(self) -> None:
        """This thread's first command has run (or it sent none through this client): wait for the others."""
        with self._guard:
            first = threading.get_ident() not in self._seen
            self._seen.add(threading.get_ident())
        if first:
            try:
                self.barrier.wait()
            except threading.BrokenBarrierError:
                pass

    def __getattr__(self, name: str):
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def command(*args, **kwargs):
            result = attr(*args, **kwargs)
            if name not in ("pipeline", "register_script", "lock"):
                with self._guard:
                    self.commands += 1
                self.arrive()
            return result
        return command


def test_process_reservation_is_atomic(client) -> None:
    seats, racers = 5, 20
    client.set("available_seats", seats)
    lockstep = _Lockstep(client, racers)
    ex.state["client"] = lockstep
    ex.state["reservation_enabled"] = True
    outcomes: list[str] = []
    guard = threading.Lock()

    def take() -> None:
        try:
            ex.process_reservation(None)
            outcome = "ok"
        except NotImplementedError:
            outcome = "not written"
        except Exception as exc:  # noqa: BLE001 - the learner's failure is what is recorded
            outcome = str(exc)
        finally:
            lockstep.arrive()
        with guard:
            outcomes.append(outcome)
    threads = [threading.Thread(target=take, daemon=True) for _ in range(racers)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        ex.state["client"] = None
    if "not written" in outcomes:
        pytest.fail("`process_reservation` is not written yet: it still raises NotImplementedError", pytrace=False)
    assert lockstep.commands, ("process_reservation sent no command through get_client(): take the seat with the "
                               "app's client, get_client()")
    taken = outcomes.count("ok")
    others = sorted(set(o for o in outcomes if o not in ("ok", "Not enough seats available")))
    left = client.get("available_seats")
    assert taken == seats and left == "0", (
        f"{racers} reservations processed at the same moment (as {racers} workers would) for {seats} seats: {taken} "
        f"succeeded and available_seats is {left!r}; expected exactly {seats} and '0'. "
        + ("More seats were given than there were: reading the count, then writing count - 1, lets every worker "
           "read the same count. Take the seat with one atomic command: DECR answers the new count; below 0, give "
           "the seat back (INCR) and fail." if taken > seats else "")
        + (f" Other errors: {others[:3]}" if others else ""))
    assert outcomes.count("Not enough seats available") == racers - seats, (
        f"the {racers - seats} reservations without a seat should fail with 'Not enough seats available'; the "
        f"outcomes were {sorted(outcomes)}")
    assert ex.state["reservation_enabled"] is False, "once the seats are gone, reservations should be turned off"


def test_reserve_seat_when_the_save_fails(store) -> None:
    from fastapi.testclient import TestClient

    class DownQueue(Queue):
        """A queue whose server went down: every save raises."""

        def _enqueue(self, jobs):
            raise redis.ConnectionError("Connection refused (the grader stopped the server)")
    previous = ex.state["queue"]
    ex.state["queue"] = DownQueue()
    ex.state["reservation_enabled"] = True
    try:
        response = TestClient(ex.app, raise_server_exceptions=False).get("/reserve_seat")
    finally:
        ex.state["queue"] = previous
    assert response.content == FAILED, (
        f"when saving the job raises (the server is down), GET /reserve_seat should answer exactly "
        f"{FAILED.decode()}; it answered HTTP {response.status_code}: {response.content.decode(errors='replace')}. "
        "Put the save in a try/except.")


_ACCESS = re.compile(r'INFO: +\d+\.\d+\.\d+\.\d+:\d+ - "[^"\n]*" \d{3}[^\n]*\n?')
_LINE = re.compile(r"Seat reservation job (\d+) (?:completed|failed: Not enough seats available)")


def _events(app) -> list[str]:
    """The app's "Seat reservation job ..." lines, whole. uvicorn's access log, written from another thread, may land
    between a print's text and its end of line: it is taken out first."""
    text = _ACCESS.sub("", "\n".join(app.lines) + "\n")
    return [line.strip() for line in text.splitlines() if "Seat reservation" in line]


def _check_events(events: list[str]) -> None:
    odd = [line for line in events if not _LINE.fullmatch(line)]
    assert not odd, (
        "the app printed lines that are not exactly 'Seat reservation job ID completed' or 'Seat reservation job ID "
        f"failed: Not enough seats available':\n{show_lines(odd[:5])}")


def _check(response: httpx.Response, body: bytes, route: str) -> None:
    assert response.content == body, (
        f"GET {route} answered\n    {response.content.decode(errors='replace')}\n  expected exactly\n    "
        f"{body.decode()}")
    assert response.headers.get("content-type", "").startswith("application/json"), (
        f"GET {route} should answer JSON; content-type is {response.headers.get('content-type')}")


def _start_after_other_jobs(server_url: str):
    """The server already holds jobs (the id counter is at 51), as in the statement's sample; then the app."""
    with redis.Redis.from_url(server_url) as raw:
        raw.set(QueueKeys("default").id, FIRST_ID - 1)
    return start_app("ex13_seat.py", server_url)


def test_reserve_then_process_over_http(server_url, record_property) -> None:
    app, base = _start_after_other_jobs(server_url)
    queue = Queue(url=server_url)
    seats = redis.Redis.from_url(server_url, decode_responses=True)
    try:
        with httpx.Client(base_url=base, timeout=10) as http:
            _check(http.get("/available_seats"), b'{"numberOfAvailableSeats":"50"}', "/available_seats (at start)")
            _check(http.get("/reserve_seat"), IN_PROCESS, "/reserve_seat")
            job = queue.get_job(FIRST_ID)
            assert job is not None and job.type == "reserve_seat", (
                f"after GET /reserve_seat the queue should hold job {FIRST_ID} of type 'reserve_seat' (the server "
                f"already held jobs, so the ids go on from there); it holds "
                f"{'no such job' if job is None else 'a job of type ' + repr(job.type)}")
            time.sleep(0.5)
            early = _events(app)
            assert not early and seats.get("available_seats") == "50", (
                "before GET /process nothing may process the job: the app already printed "
                f"{early[:2]} and available_seats is {seats.get('available_seats')!r}")
            assert job.state == "inactive" or queue.get_job(FIRST_ID).state == "inactive", (
                f"before GET /process the job should wait (inactive); it is {queue.get_job(FIRST_ID).state}")
            _check(http.get("/process"), PROCESSING, "/process")
            done = wait_until(lambda: seats.get("available_seats") == "49", 15)
            assert done, (f"15 s after GET /process, available_seats is {seats.get('available_seats')!r}; expected "
                          "'49' (the queued reservation processed)")
            _check(http.get("/available_seats"), b'{"numberOfAvailableSeats":"49"}',
                   "/available_seats (after one reservation was processed)")
            want = f"Seat reservation job {FIRST_ID} completed"
            printed = wait_until(lambda: want in _events(app), 10)
            record_property("learner_output", app.transcript())
            assert printed, (f"once job {FIRST_ID} was processed the app should print {want!r} (the job's own id: "
                             f"the server already held jobs); within 10 s it printed:\n{show_lines(_events(app))}")
            _check_events(_events(app))
            wait_until(lambda: len(queue.workers()) >= 1, 5)
            for _ in range(2):
                _check(http.get("/process"), PROCESSING, "/process (again)")
            time.sleep(1.5)
            workers = queue.workers()
            assert len(workers) == 1, (
                f"GET /process was called 3 times: the first call starts the worker, later ones start nothing new. "
                f"{len(workers)} workers are running: keep the worker in state['workers'] and start one only when "
                "there is none.")
            info = workers[0]
            assert list(info.get("types", [])) == ["reserve_seat"] and info.get("concurrency") == 4, (
                f"the worker should process 'reserve_seat' jobs, 4 at a time; it serves {info.get('types')} with "
                f"concurrency {info.get('concurrency')}")
    finally:
        app.stop()
        seats.close()
        record_property("learner_output", app.transcript())


def test_never_more_than_50_seats(server_url, record_property) -> None:
    app, base = _start_after_other_jobs(server_url)
    queue = Queue(url=server_url)
    try:
        async def burst() -> list[bytes]:
            async with httpx.AsyncClient(base_url=base, timeout=30,
                                         limits=httpx.Limits(max_connections=30)) as http:
                responses = await asyncio.gather(*(http.get("/reserve_seat") for _ in range(70)))
                return [r.content for r in responses]
        bodies = asyncio.run(burst())
        queued = bodies.count(IN_PROCESS)
        with httpx.Client(base_url=base, timeout=10) as http:
            _check(http.get("/process"), PROCESSING, "/process")

        def drained() -> bool:
            c = queue.counts()
            return c["inactive"] + c["active"] + c["delayed"] == 0 and c["complete"] + c["failed"] >= queued
        finished = wait_until(drained, timeout=60, interval=0.2)
        assert finished, (f"60 s after GET /process, {queued} reservations were still not all processed: "
                          f"{queue.counts()}")
        wait_until(lambda: len(_events(app)) >= queued, timeout=10)
        with httpx.Client(base_url=base, timeout=10) as http:
            seats = http.get("/available_seats").content
            after = http.get("/reserve_seat").content
    finally:
        app.stop()
        record_property("learner_output", app.transcript())
    others = sorted({b.decode(errors="replace") for b in bodies} - {IN_PROCESS.decode()})
    assert not others, (f"70 reservations before any was processed: /reserve_seat should answer "
                        f"{IN_PROCESS.decode()} to each; it also answered {others[:3]}")
    counts = queue.counts()
    assert counts["complete"] <= 50, (
        f"70 reservations for 50 seats: {counts['complete']} jobs completed, i.e. more than the 50 seats were given. "
        "Take a seat with one atomic command (DECR) rather than reading then writing the count.")
    assert seats == b'{"numberOfAvailableSeats":"0"}', (
        f"after 70 reservations for 50 seats, /available_seats answered {seats.decode(errors='replace')}; "
        'expected {"numberOfAvailableSeats":"0"}')
    events = _events(app)
    _check_events(events)
    completed = [line for line in events if line.endswith(" completed")]
    failed = [line for line in events if line not in completed]
    assert counts["complete"] == 50 and len(completed) == 50, (
        f"exactly 50 reservations should complete: {counts['complete']} jobs completed and the app printed "
        f"{len(completed)} 'completed' lines")
    assert len(failed) == queued - 50 == counts["failed"], (
        f"{queued} reservations were queued for 50 seats: {queued - 50} should fail and print '... failed: Not enough "
        f"seats available'; {counts['failed']} failed and the app printed {len(failed)} such lines")
    printed = sorted(int(_LINE.fullmatch(line).group(1)) for line in events)  # type: ignore[union-attr]
    expected = list(range(FIRST_ID, FIRST_ID + queued))
    assert printed == expected, (
        f"each line should name its own job's id ({FIRST_ID} to {FIRST_ID + queued - 1}, once each: the server "
        f"already held jobs); the lines name {printed[:5]}...{printed[-3:]}")
    assert after == BLOCKED, (
        f"with no seat left, /reserve_seat should answer {BLOCKED.decode()}; it answered {after.decode()}")
