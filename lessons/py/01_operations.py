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
# # Lesson 01 · Basic and asynchronous operations
#
# Lesson 00 sent single commands by hand. Real programs wrap them in small functions. This lesson covers tasks 2
# and 3 of the course:
#
# * **task 2**: `set_new_school(client, school_name, value)` stores a value and prints the server's reply with a
#   small helper, `redis_print`; `display_school_value(client, school_name)` prints the value of a key;
# * **task 3**: the same with **`async` / `await`**, the style most web frameworks use.
#
# The functions take the client first, as in the exercises: the original course used one global client, and
# passing it in makes a function easy to test with any client.
#
# Along the way you will see why the *order* of the output is guaranteed, what a forgotten `await` looks like, and
# how asynchronous code can wait for several answers at once.
#
# We use `queuekit.connect()`, so this runs on the embedded store (or on a real Redis if `REDIS_URL` is set).

# %%
from queuekit import connect

client = connect()
client.set("Holberton", "School")   # task 0 seeded this key; we seed it again, lessons never rely on old data
client.delete("HolbertonSanFrancisco")
assert client.get("Holberton") == "School"

# %% [markdown]
# ## 1. `redis_print`: show the server's reply
#
# The original course uses `redis.print` from the Node.js client, which prints `Reply: <reply>` (or the error). Our
# Python version takes the reply of a command, or `None` and the error. redis-py turns Redis's `OK` into `True`,
# so we turn it back into the text Redis sent, to print exactly `Reply: OK`. (The exercises give you this helper.)

# %%
def redis_print(reply, error=None):
    """Print a Redis reply the way node_redis's redis.print does: Reply: <reply>, or the error's text."""
    if error is not None:
        print(str(error))
        return
    if reply is True:
        reply = "OK"
    print(f"Reply: {reply}")


redis_print(True)
redis_print(1)
redis_print(None, "Error: something went wrong")

# %% [markdown]
# ## 2. Task 2: two small functions
#
# With redis-py every command **blocks**: `client.get(...)` sends the command, waits for the answer and returns it.
# So the three calls below run one after the other, and the output comes in the order of the calls:
# `School`, then `Reply: OK`, then `100`.
#
# (In Node.js the commands take *callbacks* and return at once; the order still holds there because one connection
# sends commands and receives replies first-in, first-out.)
#
# To *check* what a function prints, we capture its output with `contextlib.redirect_stdout` and compare lines:
# this is also how the exercise graders check your programs.

# %%
import contextlib
import io

import redis


def set_new_school(client, school_name, value):
    """Set school_name to value and print the server's reply with redis_print."""
    try:
        reply = client.set(school_name, value)
    except redis.RedisError as error:
        redis_print(None, error)
        return
    redis_print(reply)


def display_school_value(client, school_name):
    """Print the value of the key school_name."""
    print(client.get(school_name))


captured = io.StringIO()
with contextlib.redirect_stdout(captured):
    display_school_value(client, "Holberton")
    set_new_school(client, "HolbertonSanFrancisco", "100")
    display_school_value(client, "HolbertonSanFrancisco")

print(captured.getvalue())
assert captured.getvalue().splitlines() == ["School", "Reply: OK", "100"]

# %% [markdown]
# A key that does not exist reads as `None`, and Python prints `None`: Node.js would print `null`.

# %%
captured = io.StringIO()
with contextlib.redirect_stdout(captured):
    display_school_value(client, "NoSuchSchool")
assert captured.getvalue() == "None\n"

# %% [markdown]
# ## 3. Task 3: `async` / `await`
#
# A blocking call makes the whole program wait for the network. A web server that handles many requests would
# rather do something else meanwhile. That is what **asyncio** is for:
#
# * `async def` defines a *coroutine function*; calling it gives a coroutine, which does nothing until awaited;
# * `await something` means "wait for this, and let other work run meanwhile".
#
# `queuekit.connect_async()` returns the asyncio client of the same server (`redis.asyncio`). Every command must
# be awaited. In a notebook you can write `await` directly in a cell: Jupyter runs an event loop for you. (Never
# call `asyncio.run()` in a notebook: a loop is already running and it would fail.)
#
# The asyncio client connects only when it is first used, so `await aclient.ping()` is the way to check the
# connection. The two functions keep their names and arguments (task 3's file is `ex03_redis_op_async.py`, a
# separate file); here the `async def` versions replace the blocking ones.

# %%
from queuekit import connect_async

aclient = connect_async()
assert await aclient.ping() is True


async def set_new_school(client, school_name, value):
    """Set school_name to value (awaited) and print the server's reply with redis_print."""
    try:
        reply = await client.set(school_name, value)
    except redis.RedisError as error:   # a refused SET is reported as in task 2
        redis_print(None, error)
        return
    redis_print(reply)


async def display_school_value(client, school_name):
    """Print the value of the key school_name (awaited)."""
    print(await client.get(school_name))


captured = io.StringIO()
with contextlib.redirect_stdout(captured):
    await display_school_value(aclient, "Holberton")
    await set_new_school(aclient, "HolbertonSanFrancisco", "100")
    await display_school_value(aclient, "HolbertonSanFrancisco")
assert captured.getvalue().splitlines() == ["School", "Reply: OK", "100"]   # the same result as task 2

# %% [markdown]
# ### The classic mistake: a missing `await`
#
# Without `await`, you get a *coroutine object* instead of the value: the command was not even sent. If you ever
# see `<coroutine object ...>` in your output, look for the missing `await`.

# %%
forgotten = aclient.get("Holberton")      # no await!
print(forgotten)
assert not isinstance(forgotten, str)
assert await forgotten == "School"        # awaiting it sends the command and gives the value

# %% [markdown]
# ### Waiting for several answers at once
#
# Here is what `async` buys. `asyncio.gather` starts several coroutines and waits for all of them: while one waits
# for its reply, the others send their commands. Ten slow operations of 50 ms each take about 50 ms together, not
# 500 ms. (We add `asyncio.sleep` to stand for a slow network; the embedded store answers in microseconds.)
#
# The time depends on how busy your computer is, so the check looks at the order of events instead: all ten
# operations had started waiting before the first one finished.

# %%
import asyncio
import time

steps = []


async def slow_get(key, n):
    steps.append(f"start {n}")
    await asyncio.sleep(0.05)        # pretend the server is far away
    steps.append(f"end {n}")
    return await aclient.get(key)


started = time.monotonic()
values = await asyncio.gather(*(slow_get("Holberton", n) for n in range(10)))
elapsed = time.monotonic() - started
print(f"10 reads in {elapsed * 1000:.0f} ms")
assert values == ["School"] * 10
assert all(step.startswith("start") for step in steps[:10])     # they waited together, not one after another

await aclient.aclose()

# %% [markdown]
# ## 4. Pipelines: many commands, one round trip
#
# Each command is a *round trip*: the request travels to the server and the answer comes back. On a real network a
# round trip costs far more than the command itself. A **pipeline** sends a batch of commands at once and reads all
# the answers together. queuekit uses pipelines everywhere a worker has several things to tell Redis.

# %%
pipe = client.pipeline()
pipe.set("HolbertonSeattle", "80")
pipe.incr("HolbertonSeattle")
pipe.get("HolbertonSeattle")
replies = pipe.execute()
print(replies)
assert replies == [True, 81, "81"]

# %% [markdown]
# ## Grade an exercise here
#
# Task 2 is the exercise `ex02_redis_op`. Write your code in `exercises/ex02_redis_op.py`, save, and run this cell.

# %%
from queuekit.learn import check
from queuekit.learn.views import results_table

result = check("ex02_redis_op")
assert result.status in ("pass", "fail", "error") and result.name == "ex02_redis_op"
results_table(result)

# %% [markdown]
# ## Your exercises
#
# * **`exercises/ex02_redis_op.py`** (task 2): `set_new_school` and `display_school_value`, printing `School`,
#   `Reply: OK`, `100` in that order.
# * **`exercises/ex03_redis_op_async.py`** (task 3): the same with `async` / `await`.
#
# `queuekit learn check ex03_redis_op_async` grades the second one. Next lesson: hashes.
