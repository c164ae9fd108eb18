"""Task 12 — In stock? (reference solution)"""

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
    return next((item for item in LIST_PRODUCTS if item["itemId"] == item_id), None)


async def reserve_stock_by_id(client, item_id: int, stock: int) -> None:
    """Set the reserved count of ``item_id`` (key ``item.<id>``) to ``stock``."""
    await client.set(f"item.{item_id}", stock)


async def get_current_reserved_stock_by_id(client, item_id: int) -> int:
    """How many units of ``item_id`` are reserved (0 when the key is missing)."""
    value = await client.get(f"item.{item_id}")
    return int(value) if value is not None else 0


async def reserve_one(client, item: dict) -> bool:
    """Reserve one unit of ``item`` atomically; False when none is left."""
    key = f"item.{item['itemId']}"
    reserved = await client.incr(key)
    if reserved > item["initialAvailableQuantity"]:
        await client.decr(key)
        return False
    return True


app = FastAPI()
_client = None


def get_client():
    """The app's asyncio Redis client, created on first use."""
    global _client
    if _client is None:
        _client = connect_async()
    return _client


def _find(item_id: str) -> dict | None:
    return get_item_by_id(int(item_id)) if item_id.isdigit() else None


@app.get("/list_products")
async def list_products() -> list:
    return LIST_PRODUCTS


@app.get("/list_products/{item_id}")
async def product_detail(item_id: int):  # WRONG: FastAPI answers its own 422 error for /list_products/abc
    item = get_item_by_id(item_id)
    if item is None:
        return JSONResponse(NOT_FOUND, status_code=404)
    reserved = await get_current_reserved_stock_by_id(get_client(), item["itemId"])
    return {**item, "currentQuantity": item["initialAvailableQuantity"] - reserved}


@app.get("/reserve_product/{item_id}")
async def reserve_product(item_id: str):
    item = _find(item_id)
    if item is None:
        return JSONResponse(NOT_FOUND, status_code=404)
    if not await reserve_one(get_client(), item):
        return {"status": "Not enough stock available", "itemId": item["itemId"]}
    return {"status": "Reservation confirmed", "itemId": item["itemId"]}


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "1245")))
