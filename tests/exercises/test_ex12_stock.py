"""Grader of task 12 (exercises/ex12_stock.py): the stock app over real HTTP, exact JSON, no oversell."""

from __future__ import annotations

import asyncio
import inspect

import fakeredis
import httpx
import pytest
from exercise_support import call, load, start_app

ex = load("ex12_stock.py", "get_item_by_id", "reserve_stock_by_id", "get_current_reserved_stock_by_id",
          "reserve_one", "app")
pytestmark = pytest.mark.task(12)

LIST = (b'[{"itemId":1,"itemName":"Suitcase 250","price":50,"initialAvailableQuantity":4},'
        b'{"itemId":2,"itemName":"Suitcase 450","price":100,"initialAvailableQuantity":10},'
        b'{"itemId":3,"itemName":"Suitcase 650","price":350,"initialAvailableQuantity":2},'
        b'{"itemId":4,"itemName":"Suitcase 1050","price":550,"initialAvailableQuantity":5}]')
NOT_FOUND = b'{"status":"Product not found"}'


def _arun(fn, *args):
    if not inspect.iscoroutinefunction(fn):
        pytest.fail(f"`{fn.__name__}` must be an async function (`async def`)", pytrace=False)
    try:
        return asyncio.run(fn(*args))
    except NotImplementedError:
        pytest.fail(f"`{fn.__name__}` is not written yet: it still raises NotImplementedError", pytrace=False)


def test_get_item_by_id() -> None:
    got = call(ex.get_item_by_id, 3)
    assert got == {"itemId": 3, "itemName": "Suitcase 650", "price": 350, "initialAvailableQuantity": 2}, (
        f"get_item_by_id(3) returned {got!r}; expected the Suitcase 650 product dict")
    missing = call(ex.get_item_by_id, 12)
    assert missing is None, f"get_item_by_id(12) returned {missing!r}; expected None (no such product)"


def _own_store() -> tuple[fakeredis.FakeAsyncRedis, fakeredis.FakeRedis]:
    """A client on a store of its own (not the app's default one): a function that ignores the client it is given
    and uses get_client() writes elsewhere, and is caught."""
    own = fakeredis.FakeServer(version=(7, 0))
    return (fakeredis.FakeAsyncRedis(server=own, decode_responses=True),
            fakeredis.FakeRedis(server=own, decode_responses=True))


def test_reserved_stock_functions(store) -> None:
    client, sync = _own_store()
    got = _arun(ex.get_current_reserved_stock_by_id, client, 2)
    assert got == 0, f"get_current_reserved_stock_by_id(client, 2) with no key item.2 returned {got!r}; expected 0"
    _arun(ex.reserve_stock_by_id, client, 2, 3)
    assert sync.get("item.2") == "3", (
        f"reserve_stock_by_id(client, 2, 3) should set the key item.2 to 3; item.2 holds {sync.get('item.2')!r}, "
        f"keys: {sorted(sync.keys('*'))}")
    got = _arun(ex.get_current_reserved_stock_by_id, client, 2)
    assert got == 3 and isinstance(got, int), (
        f"get_current_reserved_stock_by_id(client, 2) with item.2 = 3 returned {got!r}; expected the int 3")
    _arun(ex.reserve_stock_by_id, client, 4, 5)
    assert sync.get("item.4") == "5" and sync.get("item.2") == "3", (
        f"reserve_stock_by_id(client, 4, 5) should set item.4 to 5 and leave item.2 alone; item.4 holds "
        f"{sync.get('item.4')!r} and item.2 {sync.get('item.2')!r}")
    got = _arun(ex.get_current_reserved_stock_by_id, client, 4)
    assert got == 5, f"get_current_reserved_stock_by_id(client, 4) with item.4 = 5 returned {got!r}; expected 5"


def test_reserve_one_stops_at_the_stock(store) -> None:
    client, sync = _own_store()
    item = {"itemId": 3, "itemName": "Suitcase 650", "price": 350, "initialAvailableQuantity": 2}
    got = [_arun(ex.reserve_one, client, item) for _ in range(3)]
    assert got == [True, True, False], (
        f"three calls of reserve_one(client, <item 3, stock 2>) returned {got}; expected [True, True, False]")
    reserved = sync.get("item.3")
    assert reserved == "2", (
        f"after that, item.3 should hold 2 (reserved units); it holds {reserved!r}. A refused reservation must "
        "give its unit back (DECR) so that the count never stays above the stock.")


class _Lockstep:
    """The client given to reserve_one in the race below: every caller's first command waits, once it has run, until
    all the callers have run theirs. So 20 callers that first read the count all read the same one, every time:
    a read-then-write is caught whatever the machine's load, and an INCR stays right (Redis runs it whole)."""

    def __init__(self, client: fakeredis.FakeAsyncRedis, parties: int) -> None:
        self._client, self._parties = client, parties
        self._seen: set[object] = set()
        self._all = asyncio.Event()
        self.commands = 0

    def __getattr__(self, name: str):
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def command(*args, **kwargs):
            result = attr(*args, **kwargs)
            return self._after(result) if inspect.isawaitable(result) else result
        return command

    async def _after(self, pending):
        result = await pending
        self.commands += 1
        task = asyncio.current_task()
        if task not in self._seen:
            self._seen.add(task)
            if len(self._seen) >= self._parties:
                self._all.set()
            try:
                await asyncio.wait_for(self._all.wait(), 10)
            except asyncio.TimeoutError:
                pass
        return result


def test_reserve_one_is_atomic(store) -> None:
    client, sync = _own_store()
    item = {"itemId": 1, "itemName": "Suitcase 250", "price": 50, "initialAvailableQuantity": 4}
    lockstep = _Lockstep(client, 20)

    async def rush() -> list[object]:
        return list(await asyncio.gather(*(ex.reserve_one(lockstep, item) for _ in range(20))))
    if not inspect.iscoroutinefunction(ex.reserve_one):
        pytest.fail("`reserve_one` must be an async function (`async def`)", pytrace=False)
    try:
        got = asyncio.run(rush())
    except NotImplementedError:
        pytest.fail("`reserve_one` is not written yet: it still raises NotImplementedError", pytrace=False)
    assert lockstep.commands, ("reserve_one(client, item) sent no command through the client it was given: use "
                               "that client (the argument), not another one")
    confirmed = sum(1 for r in got if r is True)
    reserved = sync.get("item.1")
    assert confirmed == 4 and reserved == "4", (
        f"20 reserve_one(client, <item 1, stock 4>) calls at the same moment: {confirmed} returned True and item.1 "
        f"holds {reserved!r}; expected exactly 4 True and item.1 = 4. "
        + ("More than the stock was reserved: reading the count, then writing count + 1, lets every caller read the "
           "same count. Use one atomic command: INCR answers the new count; above the stock, DECR back and answer "
           "False." if confirmed > 4 else ""))


def _check(response: httpx.Response, body: bytes, route: str, statuses: tuple[int, ...] = (200,)) -> None:
    assert response.content == body, (
        f"GET {route} answered\n    {response.content.decode(errors='replace')}\n  expected exactly\n    "
        f"{body.decode()}")
    assert response.status_code in statuses, f"GET {route} answered HTTP {response.status_code}; expected {statuses}"
    assert response.headers.get("content-type", "").startswith("application/json"), (
        f"GET {route} should answer JSON (content-type application/json); got {response.headers.get('content-type')}")


def test_routes_over_http(server_url, record_property) -> None:
    app, base = start_app("ex12_stock.py", server_url)
    try:
        with httpx.Client(base_url=base, timeout=10) as http:
            _check(http.get("/list_products"), LIST, "/list_products")
            _check(http.get("/list_products/1"), b'{"itemId":1,"itemName":"Suitcase 250","price":50,'
                   b'"initialAvailableQuantity":4,"currentQuantity":4}', "/list_products/1")
            for route in ("/list_products/12", "/list_products/abc", "/reserve_product/12", "/reserve_product/abc"):
                _check(http.get(route), NOT_FOUND, route, (200, 404))
            for _ in range(2):
                _check(http.get("/reserve_product/3"), b'{"status":"Reservation confirmed","itemId":3}',
                       "/reserve_product/3 (stock 2)")
            _check(http.get("/reserve_product/3"), b'{"status":"Not enough stock available","itemId":3}',
                   "/reserve_product/3 (a third time: stock 2)")
            _check(http.get("/list_products/3"), b'{"itemId":3,"itemName":"Suitcase 650","price":350,'
                   b'"initialAvailableQuantity":2,"currentQuantity":0}', "/list_products/3 (after 2 reservations)")
    finally:
        app.stop()
        record_property("learner_output", app.transcript())


def test_no_oversell_under_concurrency(server_url, record_property) -> None:
    app, base = start_app("ex12_stock.py", server_url)

    async def burst() -> list[bytes]:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=base, timeout=20, limits=limits) as http:
            responses = await asyncio.gather(*(http.get("/reserve_product/1") for _ in range(50)))
            return [r.content for r in responses]
    try:
        bodies = asyncio.run(burst())
        with httpx.Client(base_url=base, timeout=10) as http:
            detail = http.get("/list_products/1").content
    finally:
        app.stop()
        record_property("learner_output", app.transcript())
    confirmed = bodies.count(b'{"status":"Reservation confirmed","itemId":1}')
    refused = bodies.count(b'{"status":"Not enough stock available","itemId":1}')
    assert confirmed == 4 and refused == 46, (
        f"50 requests at once to /reserve_product/1 (stock 4): {confirmed} were confirmed and {refused} refused; "
        f"expected exactly 4 confirmed and 46 refused. "
        + ("More than the stock was sold: reading the count then writing count + 1 is a race; use one atomic "
           "command (INCR) in reserve_one." if confirmed > 4 else "")
        + (f" Other answers: {sorted(set(bodies))[:3]}" if confirmed + refused != 50 else ""))
    assert detail.endswith(b'"currentQuantity":0}'), (
        f"after the 4 reservations, /list_products/1 answered {detail.decode(errors='replace')}; currentQuantity "
        "should be 0")
