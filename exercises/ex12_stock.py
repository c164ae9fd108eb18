"""Task 12 — In stock? A FastAPI app that reserves products, with the stock in Redis.

The products (given below as `LIST_PRODUCTS`):

    Id 1  Suitcase 250   price 50   stock 4
    Id 2  Suitcase 450   price 100  stock 10
    Id 3  Suitcase 650   price 350  stock 2
    Id 4  Suitcase 1050  price 550  stock 5

Write:

1. `get_item_by_id(item_id)`: the product dict with that `itemId`, or None.
2. `async reserve_stock_by_id(client, item_id, stock)`: set in Redis the key `item.ITEM_ID` to `stock`. The key
   holds how many units are **reserved** (a missing key means 0).
3. `async get_current_reserved_stock_by_id(client, item_id)`: the reserved count of the item, as an int (0 when
   the key is missing).
4. `async reserve_one(client, item)`: reserve one unit **atomically** and return True, or return False when none is
   left. Reading the count and writing count + 1 in two steps is wrong: 50 requests arriving together would all
   read the same count and all succeed. Use one atomic command instead: `INCR` answers the new count; when it went
   above the stock, `DECR` back and answer False.
   INCR then DECR works, but for a moment the count is wrong: until a refused request has given its unit back, a
   reader can see a currentQuantity below 0 (nothing is ever oversold). A Lua script that checks and increments in
   one step avoids that moment, at the cost of a script to write. (Lesson 07 shows both; the grader accepts both.)
5. The routes (`client` being the app's asyncio client, `get_client()`, already written):
   - `GET /list_products`: the list of every product:
     `[{"itemId":1,"itemName":"Suitcase 250","price":50,"initialAvailableQuantity":4},...]`
   - `GET /list_products/{item_id}`: the product plus its current quantity
     (`initialAvailableQuantity` minus the reserved count):
     `{"itemId":1,"itemName":"Suitcase 250","price":50,"initialAvailableQuantity":4,"currentQuantity":4}`
   - `GET /reserve_product/{item_id}`: reserve one unit with `reserve_one`; answer
     `{"status":"Reservation confirmed","itemId":1}`, or `{"status":"Not enough stock available","itemId":1}`
     when none is left.
   - An unknown id, or one that is not a number (`/list_products/12`, `/list_products/abc`), answers
     `{"status":"Product not found"}` (with HTTP status 404). So take `item_id` as a `str` in the route and convert
     it yourself: declared as `int`, FastAPI would answer its own 422 error for `abc`.

The bodies are compared byte for byte: FastAPI writes dicts as compact JSON in their key order, which is what we
want; keep the keys in the order shown.

Run it with Python alone (`curl` works too, if you have it). In a first terminal, a server for the stock:

    queuekit server --port 6390

in a second one, the app (port 1245 by default; `PORT=8000` to change it):

    REDIS_URL=redis://127.0.0.1:6390 python exercises/ex12_stock.py

and in a third one, two requests:

    python -c "import httpx; print(httpx.get('http://localhost:1245/list_products/1').text)"
    {"itemId":1,"itemName":"Suitcase 250","price":50,"initialAvailableQuantity":4,"currentQuantity":4}
    python -c "import httpx; print(httpx.get('http://localhost:1245/reserve_product/1').text)"
    {"status":"Reservation confirmed","itemId":1}

Check it: `queuekit learn check ex12_stock` (it starts its own servers).
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from queuekit.connection import connect_async

LIST_PRODUCTS = [
    {"itemId": 1, "itemName": "Suitcase 250", "price": 50, "initialAvailableQuantity": 4},
    {"itemId": 2, "itemName": "Suitcase 450", "price": 100, "initialAvailableQuantity": 10},
    {"itemId": 3, "itemName": "Suitcase 650", "price": 350, "initialAvailableQuantity": 2},
    {"itemId": 4, "itemName": "Suitcase 1050", "price": 550, "initialAvailableQuantity": 5},
]
NOT_FOUND = {"status": "Product not found"}


def get_item_by_id(item_id: int) -> dict | None:
    """The product whose itemId is ``item_id``, or None."""
    # TODO: find the product whose "itemId" equals item_id in LIST_PRODUCTS; None when there is none (the routes
    #       answer "Product not found" for it)
    raise NotImplementedError("get_item_by_id")


async def reserve_stock_by_id(client, item_id: int, stock: int) -> None:
    """Set the reserved count of ``item_id`` (key ``item.<id>``) to ``stock``."""
    # TODO: store `stock` under the key item.<item_id>, with the client you are given (the grader passes its own)
    raise NotImplementedError("reserve_stock_by_id")


async def get_current_reserved_stock_by_id(client, item_id: int) -> int:
    """How many units of ``item_id`` are reserved (0 when the key is missing)."""
    # TODO: read item.<item_id>; Redis answers a string, or None when nothing was reserved yet: answer an int
    raise NotImplementedError("get_current_reserved_stock_by_id")


async def reserve_one(client, item: dict) -> bool:
    """Reserve one unit of ``item`` atomically; False when none is left."""
    # TODO: take the unit in one atomic command that answers the new count (so no two requests can take the same
    #       unit); when that count went above the item's stock, give the unit back and answer False
    raise NotImplementedError("reserve_one")


app = FastAPI()
_client = None


def get_client():
    """The app's asyncio Redis client, created on first use."""
    global _client
    if _client is None:
        _client = connect_async()
    return _client


def _find(item_id: str) -> dict | None:
    """The product for a path segment such as "1" (None for "12" or "abc"). (Given.)"""
    return get_item_by_id(int(item_id)) if item_id.isdigit() else None


@app.get("/list_products")
async def list_products() -> list:
    # TODO: every product, as the statement shows (FastAPI writes a returned list as compact JSON)
    raise NotImplementedError("GET /list_products")


@app.get("/list_products/{item_id}")
async def product_detail(item_id: str):
    # TODO: an unknown id answers NOT_FOUND with HTTP status 404; else the product's keys, in order, then
    #       "currentQuantity" (the stock minus what is reserved)
    raise NotImplementedError("GET /list_products/{item_id}")


@app.get("/reserve_product/{item_id}")
async def reserve_product(item_id: str):
    # TODO: an unknown id answers NOT_FOUND (404); else reserve with reserve_one (atomic) and answer the
    #       confirmed or the not-enough-stock body, "status" first, then "itemId" (a number)
    raise NotImplementedError("GET /reserve_product/{item_id}")


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "1245")))
