"""Task 13 (advanced) — Can I have a seat? A FastAPI app with a queue of seat reservations.

Redis holds the number of available seats in the key `available_seats`. Write:

1. `reserve_seat(client, number)`: set the key `available_seats` to `number`.
2. `get_current_available_seats(client)`: the value of `available_seats` as Redis returns it (a string, "50").
3. `process_reservation(job)`: the handler of the `reserve_seat` jobs. Take one seat **atomically** with `DECR`
   (it answers the new count; never read then write: several workers run at once). If the new count is 0 or less,
   turn reservations off (`state["reservation_enabled"] = False`). If it went below 0, give the seat back (`INCR`)
   and fail the job: `raise Exception("Not enough seats available")`. No more than 50 seats may ever be taken.
4. The routes:
   - `GET /available_seats`: `{"numberOfAvailableSeats":"50"}` (the count as a string, as Redis returns it).
   - `GET /reserve_seat`: `{"status":"Reservation are blocked"}` when reservations are off. Otherwise create a job
     of type `reserve_seat` (no data) on `get_queue()`, listening to it: on `complete` print
     `Seat reservation job JOB_ID completed`, on `failed` print `Seat reservation job JOB_ID failed: ERROR`; save
     it and answer `{"status":"Reservation in process"}`, or `{"status":"Reservation failed"}` if saving raised.
   - `GET /process`: start processing the `reserve_seat` jobs with `process_reservation` (in the background:
     `get_queue().process(...)`; keep the worker in `state["workers"]` so it is stopped at shutdown) and answer
     `{"status":"Queue processing"}`.

When the app starts (the `lifespan` function, given), `available_seats` is set to 50 and reservations are on.
`get_client()` and `get_queue()` (given) create the client and the queue on first use.

Run it (port 1245 by default; `PORT=8000` to change it):

    REDIS_URL=redis://127.0.0.1:6380 python exercises/ex13_seat.py
    curl localhost:1245/available_seats ; echo
    {"numberOfAvailableSeats":"50"}
    curl localhost:1245/reserve_seat ; echo
    {"status":"Reservation in process"}
    curl localhost:1245/process ; echo
    {"status":"Queue processing"}
    curl localhost:1245/available_seats ; echo
    {"numberOfAvailableSeats":"49"}

and the app prints `Seat reservation job 1 completed`. Reserve all the seats:

    for n in $(seq 1 55); do curl -s localhost:1245/reserve_seat ; echo ""; done

prints `{"status":"Reservation in process"}` until the seats run out, then `{"status":"Reservation are blocked"}`.
"""

from __future__ import annotations

import os
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI

from queuekit import Queue
from queuekit.connection import connect

JOB_TYPE = "reserve_seat"
TOTAL_SEATS = 50

state = {"client": None, "queue": None, "reservation_enabled": True, "workers": []}
_lock = threading.Lock()


def get_client():
    """The app's Redis client, created on first use. (Given.)"""
    with _lock:
        if state["client"] is None:
            state["client"] = connect()
        return state["client"]


def get_queue() -> Queue:
    """The app's queue, created on first use. (Given.)"""
    with _lock:
        if state["queue"] is None:
            state["queue"] = Queue()
        return state["queue"]


def reserve_seat(client, number: int) -> None:
    """Set the key available_seats to ``number``."""
    # TODO
    raise NotImplementedError("reserve_seat")


def get_current_available_seats(client) -> str | None:
    """The value of available_seats, as Redis returns it (a string)."""
    # TODO
    raise NotImplementedError("get_current_available_seats")


def process_reservation(job) -> None:
    """The reserve_seat handler: take one seat atomically, or fail when none is left."""
    # TODO: DECR available_seats; at 0 or below turn reservations off; below 0 give it back and raise
    raise NotImplementedError("process_reservation")


@asynccontextmanager
async def lifespan(app: FastAPI):
    """At start: 50 seats, reservations on; at shutdown: stop the workers. (Given.)"""
    reserve_seat(get_client(), TOTAL_SEATS)
    state["reservation_enabled"] = True
    yield
    for worker in state["workers"]:
        worker.stop(timeout=5)


app = FastAPI(lifespan=lifespan)


@app.get("/available_seats")
def available_seats() -> dict:
    # TODO
    raise NotImplementedError("GET /available_seats")


@app.get("/reserve_seat")
def reserve() -> dict:
    # TODO: blocked, or create + listen + save a reserve_seat job
    raise NotImplementedError("GET /reserve_seat")


@app.get("/process")
def process() -> dict:
    # TODO: start a worker, keep it in state["workers"]
    raise NotImplementedError("GET /process")


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "1245")))
