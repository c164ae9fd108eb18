"""Task 13 — Can I have a seat? (reference solution)"""

from __future__ import annotations

import os
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI

from queuekit import Queue
from queuekit.connection import connect

JOB_TYPE = "reserve_seat"
TOTAL_SEATS = 50
CONCURRENCY = 4

state = {"client": None, "queue": None, "reservation_enabled": True, "workers": []}
_lock = threading.RLock()


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
    client.set("available_seats", number)


def get_current_available_seats(client) -> str | None:
    """The value of available_seats, as Redis returns it (a string)."""
    return client.get("available_seats")


def process_reservation(job) -> None:
    """The reserve_seat handler: take one seat atomically, or fail when none is left."""
    client = get_client()
    remaining = client.decr("available_seats")
    if remaining <= 0:
        state["reservation_enabled"] = False
    if remaining < 0:
        client.incr("available_seats")
        raise Exception("Not enough seats available")


@asynccontextmanager
async def lifespan(app: FastAPI):
    reserve_seat(get_client(), TOTAL_SEATS)
    state["reservation_enabled"] = True
    yield
    for worker in state["workers"]:
        worker.stop(timeout=5)


app = FastAPI(lifespan=lifespan)


@app.get("/available_seats")
def available_seats() -> dict:
    return {"numberOfAvailableSeats": get_current_available_seats(get_client())}


@app.get("/reserve_seat")
def reserve() -> dict:
    if not state["reservation_enabled"]:
        return {"status": "Reservation are blocked"}
    try:
        job = get_queue().create(JOB_TYPE, {})
        job.on("complete", lambda result, job=job: print(f"Seat reservation job {job.id} completed"))
        job.on("failed", lambda error, job=job: print(f"Seat reservation job {job.id} failed: {error}"))
        job.save()
    except Exception:  # noqa: BLE001 - any failure to queue is answered as such
        return {"status": "Reservation failed"}
    return {"status": "Reservation in process"}


@app.get("/process")
def process() -> dict:
    with _lock:  # two /process at once still start one worker
        if not state["workers"]:
            state["workers"].append(get_queue().process(JOB_TYPE, process_reservation, concurrency=CONCURRENCY))
    return {"status": "Queue processing"}


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "1245")))
