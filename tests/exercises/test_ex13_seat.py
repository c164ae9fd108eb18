"""Grader of task 13 (exercises/ex13_seat.py): seats, a reserve_seat queue, exact JSON, never more than 50."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from queuekit import Queue
from exercise_support import call, load, show_lines, start_app, wait_until

ex = load("ex13_seat.py", "reserve_seat", "get_current_available_seats", "process_reservation", "app", "state")
pytestmark = pytest.mark.task(13)

IN_PROCESS = b'{"status":"Reservation in process"}'
BLOCKED = b'{"status":"Reservation are blocked"}'


def test_seat_functions(client) -> None:
    call(ex.reserve_seat, client, 50)
    assert client.get("available_seats") == "50", (
        f"reserve_seat(client, 50) should set available_seats to 50; it holds {client.get('available_seats')!r}")
    got = call(ex.get_current_available_seats, client)
    assert got == "50", f"get_current_available_seats(client) returned {got!r}; expected the string '50'"


def test_process_reservation_takes_one_seat_and_stops_at_zero(client) -> None:
    ex.state["client"] = None  # the app's client is created again, on this test's store
    ex.state["reservation_enabled"] = True
    client.set("available_seats", 2)
    call(ex.process_reservation, None)
    assert client.get("available_seats") == "1", (
        f"with 2 seats, process_reservation(job) should leave 1; available_seats is {client.get('available_seats')!r}")
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


def _stdout(app) -> str:
    return "\n".join(app.lines)


def _outcomes(app, kind: str) -> list[str]:
    """The app's "Seat reservation job N completed/failed: ..." lines (uvicorn's access log, printed from another
    thread, may share a line with them, so they are searched for rather than matched as whole lines)."""
    if kind == "completed":
        return re.findall(r"Seat reservation job \d+ completed", _stdout(app))
    return [m.rstrip() for m in re.findall(r"Seat reservation job \d+ failed: (?:Not enough seats available|[^\n]*)",
                                           _stdout(app))]


def _check(response: httpx.Response, body: bytes, route: str) -> None:
    assert response.content == body, (
        f"GET {route} answered\n    {response.content.decode(errors='replace')}\n  expected exactly\n    {body.decode()}")
    assert response.headers.get("content-type", "").startswith("application/json"), (
        f"GET {route} should answer JSON; content-type is {response.headers.get('content-type')}")


def test_reserve_then_process_over_http(server_url, record_property) -> None:
    app, base = start_app("ex13_seat.py", server_url)
    try:
        with httpx.Client(base_url=base, timeout=10) as http:
            _check(http.get("/available_seats"), b'{"numberOfAvailableSeats":"50"}', "/available_seats (at start)")
            _check(http.get("/reserve_seat"), IN_PROCESS, "/reserve_seat")
            _check(http.get("/process"), b'{"status":"Queue processing"}', "/process")
            wait_until(lambda: http.get("/available_seats").content == b'{"numberOfAvailableSeats":"49"}', 10)
            _check(http.get("/available_seats"), b'{"numberOfAvailableSeats":"49"}',
                   "/available_seats (after one reservation was processed)")
        wait_until(lambda: "Seat reservation job 1 completed" in _stdout(app), 5)
        record_property("learner_output", app.transcript())
        assert "Seat reservation job 1 completed" in _stdout(app), (
            "once job 1 was processed the app should print 'Seat reservation job 1 completed'; it printed:\n"
            + show_lines(app.lines))
    finally:
        app.stop()
        record_property("learner_output", app.transcript())


def test_never_more_than_50_seats(server_url, record_property) -> None:
    app, base = start_app("ex13_seat.py", server_url)
    queue = Queue(url=server_url)
    try:
        with httpx.Client(base_url=base, timeout=10) as http:
            for _ in range(3):  # three workers race for the seats
                _check(http.get("/process"), b'{"status":"Queue processing"}', "/process")

        async def burst() -> list[bytes]:
            async with httpx.AsyncClient(base_url=base, timeout=30,
                                         limits=httpx.Limits(max_connections=30)) as http:
                responses = await asyncio.gather(*(http.get("/reserve_seat") for _ in range(70)))
                return [r.content for r in responses]
        bodies = asyncio.run(burst())
        queued = bodies.count(IN_PROCESS)

        def drained() -> bool:
            c = queue.counts()
            return c["inactive"] + c["active"] + c["delayed"] == 0 and c["complete"] + c["failed"] >= queued
        wait_until(drained, timeout=30, interval=0.2)
        wait_until(lambda: len(_outcomes(app, "completed")) + len(_outcomes(app, "failed")) >= queued, timeout=5)
        with httpx.Client(base_url=base, timeout=10) as http:
            seats = http.get("/available_seats").content
            after = http.get("/reserve_seat").content
    finally:
        app.stop()
        record_property("learner_output", app.transcript())
    others = sorted({b.decode(errors="replace") for b in bodies} - {IN_PROCESS.decode(), BLOCKED.decode()})
    assert not others, f"/reserve_seat answered something else than in process / blocked: {others[:3]}"
    completed = _outcomes(app, "completed")
    failed = _outcomes(app, "failed")
    counts = queue.counts()
    assert counts["complete"] <= 50 and len(completed) <= 50, (
        f"70 reservations at once with 3 workers: {counts['complete']} jobs completed, i.e. more than the 50 seats "
        "were given. Take a seat with one atomic command (DECR) rather than reading then writing the count.")
    assert seats == b'{"numberOfAvailableSeats":"0"}', (
        f"after 70 reservations for 50 seats, /available_seats answered {seats.decode(errors='replace')}; "
        'expected {"numberOfAvailableSeats":"0"}')
    assert counts["complete"] == 50 and len(completed) == 50, (
        f"exactly 50 reservations should complete: {counts['complete']} jobs completed and the app printed "
        f"{len(completed)} 'completed' lines")
    assert all(line.endswith("failed: Not enough seats available") for line in failed), (
        f"failed reservations should print '... failed: Not enough seats available'; got {failed[:3]}")
    assert len(completed) + len(failed) == queued, (
        f"{queued} reservations were queued but the app printed {len(completed)} completed and {len(failed)} "
        "failed lines: every job should print one of them")
    assert after == BLOCKED, (
        f"with no seat left, /reserve_seat should answer {BLOCKED.decode()}; it answered {after.decode()}")
