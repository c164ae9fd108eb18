# ---
# jupyter:
#   jupytext:
#     formats: lessons///ipynb,lessons/py///py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 07 · A web app on Redis: in stock?
#
# Task 12 of the course builds a small shop: a web server that lists suitcases and lets customers reserve them.
# The stock lives in Redis, so several copies of the server could share it. The original uses Express (Node.js);
# we use **FastAPI**, the usual choice in Python for a JSON API, with `async` / `await` (lesson 01).
#
# | route | answer |
# |---|---|
# | `GET /list_products` | every product |
# | `GET /list_products/:itemId` | one product and its `currentQuantity` |
# | `GET /reserve_product/:itemId` | reserve one unit, if any is left |
#
# The key `item.<id>` holds how many units are **reserved** (missing = 0), so
# `currentQuantity = initialAvailableQuantity - reserved`.
#
# As in the exercise, the functions that touch Redis take the client first (`reserve_stock_by_id(client, item_id,
# stock)`, `get_current_reserved_stock_by_id(client, item_id)`); the app passes its own.
#
# Then the real lesson: 50 customers click "reserve" at the same moment on an item with 4 units. A naive
# implementation sells more than it has. We will see why, and fix it with an **atomic** command: `INCR`.

# %%
import json

from queuekit import connect_async

LIST_PRODUCTS = [
    {"itemId": 1, "itemName": "Suitcase 250", "price": 50, "initialAvailableQuantity": 4},
    {"itemId": 2, "itemName": "Suitcase 450", "price": 100, "initialAvailableQuantity": 10},
    {"itemId": 3, "itemName": "Suitcase 650", "price": 350, "initialAvailableQuantity": 2},
    {"itemId": 4, "itemName": "Suitcase 1050", "price": 550, "initialAvailableQuantity": 5},
]


def get_item_by_id(item_id):
    """The product with this id, or None."""
    return next((item for item in LIST_PRODUCTS if item["itemId"] == item_id), None)


redis_client = connect_async()
await redis_client.delete(*(f"item.{item['itemId']}" for item in LIST_PRODUCTS))   # no reservation yet


async def reserve_stock_by_id(client, item_id, stock):
    """Store the reserved count of an item."""
    await client.set(f"item.{item_id}", stock)


async def get_current_reserved_stock_by_id(client, item_id):
    """How many units of the item are reserved (0 when the key does not exist)."""
    return int(await client.get(f"item.{item_id}") or 0)


assert get_item_by_id(3)["itemName"] == "Suitcase 650" and get_item_by_id(12) is None
assert await get_current_reserved_stock_by_id(redis_client, 1) == 0

# %% [markdown]
# ## 1. The app
#
# A FastAPI app is a set of functions, one per route. A function returns a `dict` or a `list` and FastAPI sends it
# as JSON, in compact form (`{"itemId":1,...}`, no spaces), the same bytes as Express's `res.json`. For "not found"
# we return a `JSONResponse` with the HTTP status 404 and the course's body.
#
# The path parameter arrives as text: `/list_products/abc` must answer "Product not found", not crash, so we
# convert it carefully.

# %%
import asyncio

from fastapi import FastAPI
from fastapi.responses import JSONResponse

NOT_FOUND = {"status": "Product not found"}


def find(item_id):
    return get_item_by_id(int(item_id)) if item_id.isdigit() else None


def make_app(reserve):
    """Build the shop; `reserve(item)` decides whether one unit can be reserved (we will try two versions)."""
    app = FastAPI()

    @app.get("/list_products")
    async def list_products():
        return LIST_PRODUCTS

    @app.get("/list_products/{item_id}")
    async def product(item_id: str):
        item = find(item_id)
        if item is None:
            return JSONResponse(NOT_FOUND, status_code=404)
        reserved = await get_current_reserved_stock_by_id(redis_client, item["itemId"])
        return {**item, "currentQuantity": item["initialAvailableQuantity"] - reserved}

    @app.get("/reserve_product/{item_id}")
    async def reserve_product(item_id: str):
        item = find(item_id)
        if item is None:
            return JSONResponse(NOT_FOUND, status_code=404)
        if not await reserve(item):
            return {"status": "Not enough stock available", "itemId": item["itemId"]}
        return {"status": "Reservation confirmed", "itemId": item["itemId"]}

    return app

# %% [markdown]
# ## 2. A first, naive reservation
#
# Read the reserved count; if some stock is left, write count + 1. Between the read and the write there is a
# round trip to Redis. On a real network it lasts a fraction of a millisecond, plenty of time for another request
# to read the *same* count. Our embedded store answers so fast that we make the gap visible with a short
# `asyncio.sleep`, standing for the network.

# %%
async def naive_reserve(item):
    reserved = await get_current_reserved_stock_by_id(redis_client, item["itemId"])
    if reserved >= item["initialAvailableQuantity"]:
        return False
    await asyncio.sleep(0.01)                       # the network round trip, made visible
    await reserve_stock_by_id(redis_client, item["itemId"], reserved + 1)
    return True

# %% [markdown]
# ## 3. Calling the app without a network
#
# To try the app we do not even need to start a server: `httpx` can call a FastAPI app directly in this process
# (`ASGITransport`), exactly as a browser would over HTTP. To run it for real, as the exercise does, you start a
# server (`queuekit server --port 6390`), then the app with `REDIS_URL=redis://127.0.0.1:6390` on port 1245 (the
# course's), and ask it with `python -c "import httpx; print(httpx.get('http://localhost:1245/list_products').text)"`
# or a browser.

# %%
import httpx

app = make_app(naive_reserve)
http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shop")

response = await http.get("/list_products")
assert response.status_code == 200
assert response.text == ('[{"itemId":1,"itemName":"Suitcase 250","price":50,"initialAvailableQuantity":4},'
                         '{"itemId":2,"itemName":"Suitcase 450","price":100,"initialAvailableQuantity":10},'
                         '{"itemId":3,"itemName":"Suitcase 650","price":350,"initialAvailableQuantity":2},'
                         '{"itemId":4,"itemName":"Suitcase 1050","price":550,"initialAvailableQuantity":5}]')

response = await http.get("/list_products/1")
print(response.text)
assert response.text == ('{"itemId":1,"itemName":"Suitcase 250","price":50,"initialAvailableQuantity":4,'
                         '"currentQuantity":4}')

for unknown in ("12", "abc"):
    response = await http.get(f"/list_products/{unknown}")
    assert response.status_code == 404 and response.text == '{"status":"Product not found"}'
    response = await http.get(f"/reserve_product/{unknown}")
    assert response.text == '{"status":"Product not found"}'

# %% [markdown]
# One customer at a time, everything is right: item 3 has 2 units, the third reservation is refused.

# %%
bodies = [(await http.get("/reserve_product/3")).text for _ in range(3)]
print(bodies)
assert bodies == ['{"status":"Reservation confirmed","itemId":3}'] * 2 + \
                 ['{"status":"Not enough stock available","itemId":3}']
assert (await http.get("/list_products/3")).json()["currentQuantity"] == 0

# %% [markdown]
# ## 4. Fifty customers at once
#
# `asyncio.gather` sends 50 requests for item 1 (4 units) at the same time. Count the confirmations:

# %%
async def rush(item_id, customers=50):
    responses = await asyncio.gather(*(http.get(f"/reserve_product/{item_id}") for _ in range(customers)))
    return sum(r.json()["status"] == "Reservation confirmed" for r in responses)


confirmed = await rush(1)
print(f"{confirmed} reservations confirmed for 4 suitcases")
assert confirmed > 4            # sold more than we have!

# %% [markdown]
# All 50 requests read "0 reserved" before any of them wrote. Each one concluded that stock was left. This is a
# **race condition**, and it is the central problem of any shared store: a decision taken on a value that may have
# changed by the time you act on it.
#
# ## 5. The fix: one atomic command
#
# Redis runs one command at a time, whole. `INCR` adds one to the count **and answers the new count** in that one
# step: two requests can never both get the same answer. So each request takes a unit first and looks afterwards:
# if the new count is above the stock, the unit was not there, and the request gives it back with `DECR` and is
# refused. This is the method task 12 asks for (its `reserve_one(client, item)` is this function, with the client
# passed in).

# %%
async def atomic_reserve(item):
    key = f"item.{item['itemId']}"
    reserved = await redis_client.incr(key)          # take a unit: one atomic step, answers the new count
    if reserved > item["initialAvailableQuantity"]:
        await redis_client.decr(key)                 # there was none left: give it back
        return False
    return True


await http.aclose()                   # done with the naive shop
await reserve_stock_by_id(redis_client, 1, 0)       # start again: nothing reserved
app = make_app(atomic_reserve)
http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shop")

confirmed = await rush(1)
print(f"{confirmed} reservations confirmed for 4 suitcases")
assert confirmed == 4
assert (await http.get("/list_products/1")).json()["currentQuantity"] == 0
assert await get_current_reserved_stock_by_id(redis_client, 1) == 4

# %% [markdown]
# Exactly 4, however many customers and however many copies of the server: each decision rests on a count that
# no one else can have seen.
#
# **The trade-off, and the other way.** INCR then DECR works, but for a moment the count is wrong: until a refused
# request has given its unit back, a reader can see a currentQuantity below 0 (nothing is ever oversold). A Lua
# script that checks and increments in one step avoids that moment, at the cost of a script to write.
#
# Here is that script, as an aside. Redis runs a **Lua** script as a single command: while it runs, nothing else
# does, so "is there stock left? then add one" cannot be split. queuekit itself is built this way: every change of
# a job's state is one Lua script (lesson 09).

# %%
RESERVE_ONE = """
local reserved = tonumber(redis.call('GET', KEYS[1]) or '0')
if reserved >= tonumber(ARGV[1]) then
  return 0
end
redis.call('INCR', KEYS[1])
return 1
"""
reserve_script = redis_client.register_script(RESERVE_ONE)


async def scripted_reserve(item):
    return await reserve_script(keys=[f"item.{item['itemId']}"], args=[item["initialAvailableQuantity"]]) == 1


await http.aclose()
await reserve_stock_by_id(redis_client, 1, 0)
app = make_app(scripted_reserve)
http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shop")
confirmed = await rush(1)
assert confirmed == 4 and await get_current_reserved_stock_by_id(redis_client, 1) == 4
print(f"with the script too: {confirmed} confirmed")

# %%
await http.aclose()
await redis_client.aclose()

# %% [markdown]
# ## Grade an exercise here
#
# Task 12 is the exercise `ex12_stock`: your app is started with uvicorn and graded over real HTTP, byte for byte,
# and under 50 concurrent reservations.

# %%
from queuekit.learn import check
from queuekit.learn.views import results_table

result = check("ex12_stock")
assert result.status in ("pass", "fail", "error")
results_table(result)

# %% [markdown]
# ## Your exercise
#
# * **`exercises/ex12_stock.py`** (task 12): the shop, on port 1245 by default, with the
#   exact JSON bodies and an atomic reservation (INCR, and DECR back when over the stock).
#
# Next lesson: a queue behind a web app.
