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
# # Lesson 00 · A server and a first client
#
# A **job queue** is a to-do list shared by programs: one program writes "please send this e-mail", another one
# reads the list and does the work. In this course the list lives in **Redis**, a server that keeps data in memory
# and answers small commands very fast (`SET`, `GET`, `INCR`, …). Many programs can talk to the same Redis server at
# once, which is exactly what a shared to-do list needs.
#
# This lesson covers tasks 0 and 1 of the original course ("0x03. Queuing System in JS"):
#
# 1. start a Redis server and check that it answers (`PING` → `PONG`);
# 2. store the value `School` under the key `Holberton`, and read it back;
# 3. connect a client from Python, and report whether the connection worked.
#
# You do not need to install anything: queuekit ships an **embedded server**, a small Redis-compatible server
# written in Python (it is built on `fakeredis`). Everything you learn works the same on a real Redis; the last
# part of the lesson shows how to switch.
#
# Run the cells from top to bottom (Shift+Enter). Each code cell ends with `assert` lines: they check what the
# text just claimed. If an `assert` fails, something is not as the lesson says, and the error tells you which line.

# %% [markdown]
# ## 1. Start a server
#
# The original course compiles `redis-server` and runs it in the background. Here, `EmbeddedServer` does the same
# job inside this notebook: it listens on a TCP port of your own machine (the *loopback* address `127.0.0.1`,
# which nothing outside your computer can reach). `port=0` asks the system for any free port, so the lesson never
# collides with a Redis you may already run on the standard port 6379.

# %%
from queuekit.server import EmbeddedServer

server = EmbeddedServer(port=0).start()
print("the server listens at", server.url)

assert server.url.startswith("redis://127.0.0.1:")
assert server.port > 0

# %% [markdown]
# ## 2. A first client: PING, SET and GET
#
# A *client* is the part of your program that sends commands to the server. In Python the standard client is
# `redis-py` (`import redis`). `decode_responses=True` asks it to give us text (`str`) instead of raw bytes.
#
# * `PING` asks "are you there?"; Redis answers `PONG`, which redis-py turns into `True`.
# * `SET key value` stores a value and answers `OK` (`True` in redis-py).
# * `GET key` reads it back, or gives `None` when the key does not exist.

# %%
import redis

client = redis.Redis.from_url(server.url, decode_responses=True)

assert client.ping() is True           # the server answered PONG
assert client.set("Holberton", "School") is True
assert client.get("Holberton") == "School"
assert client.get("holberton") is None  # keys are case-sensitive: this one was never set
print("Holberton =", client.get("Holberton"))

# %% [markdown]
# Every value Redis stores is a string. If you store a number you get text back, and Redis can still do
# arithmetic on it with commands like `INCR` (add one). Queues use exactly this to number their jobs 1, 2, 3, …

# %%
client.set("visits", 41)
assert client.get("visits") == "41"      # a string, not the number 41
assert client.incr("visits") == 42       # INCR answers the new value
assert client.get("visits") == "42"

# %% [markdown]
# ## 3. Report whether the connection worked (task 1)
#
# Task 1 asks a program to say `Redis client connected to the server` when it can reach Redis, and
# `Redis client not connected to the server: ERROR_MESSAGE` when it cannot.
#
# `queuekit.connect(url)` returns a redis-py client after checking that the server answers. When nothing answers
# it raises `ConnectionFailed` within a few seconds, with a message that names the host and port. We use it to
# write the two messages. To see the failure, we stop our server and try again on its (now closed) port.

# %%
from queuekit import connect
from queuekit.errors import ConnectionFailed


def connect_client(url):
    """Connect to the Redis server at url and say whether it worked (task 1)."""
    try:
        new_client = connect(url)
    except ConnectionFailed as error:
        print(f"Redis client not connected to the server: {error}")
        return None
    print("Redis client connected to the server")
    return new_client


ok = connect_client(server.url)
assert ok is not None and ok.get("Holberton") == "School"
ok.close()

# %%
import time

url = server.url
client.close()
server.stop()                  # like killing redis-server: nothing listens on that port any more

started = time.monotonic()
missing = connect_client(url)
assert missing is None
assert time.monotonic() - started < 5  # a clear error quickly, not an endless wait

# %% [markdown]
# The store of an embedded server lives in memory and disappears when the server stops, just like a Redis server
# without a `dump.rdb` file. That is why, in this course, nothing depends on data left over from a previous run:
# every lesson and every exercise seeds what it needs.
#
# ## 4. The default server: `queuekit.connect()` with no URL
#
# Most of the time you will not start a server by hand. `queuekit.connect()` without a URL picks one for you:
#
# * if the environment variable `REDIS_URL` is set (for example `redis://127.0.0.1:6379/0`), it connects there;
# * otherwise it uses an **embedded in-process store**, shared by everything in this notebook (no TCP port at
#   all, so it is even faster; but other *processes* cannot see it: lesson 03 shows how to share a server).
#
# Every lesson of the course runs unchanged on both. Try it later: start a real Redis, set `REDIS_URL` before
# starting Jupyter (a database you can spare, such as `redis://127.0.0.1:6379/3`: the lessons create and delete
# their own keys), and run the lessons again. The exercises that run as separate processes share one server the
# same way: `queuekit server --port 6390` in a terminal, and `REDIS_URL=redis://127.0.0.1:6390` for each script.

# %%
import os

from queuekit.connection import describe_client

default = connect()
print("REDIS_URL is", os.environ.get("REDIS_URL", "not set"), "-> connected to", describe_client(default))
default.set("Holberton", "School")
assert default.get("Holberton") == "School"
assert connect().get("Holberton") == "School"  # another client, the same store

# %% [markdown]
# ## Grade an exercise here
#
# The course's exercises are Python files in the `exercises/` folder. This cell grades one of them in place with
# `queuekit.learn.check` and shows the result as a table: one row per test. Until you have written your solution
# a test fails: grading stops there, its row says what was expected, and the tests after it show as not run yet.
# Edit the file, save it, and run this cell again.
# (In a terminal, `queuekit learn` does the same and re-grades every time you save.)

# %%
from queuekit.learn import check
from queuekit.learn.views import results_table

result = check("ex00_server")
assert result.status in ("pass", "fail", "error") and result.name == "ex00_server"
results_table(result)

# %% [markdown]
# ## Your exercises
#
# * **`exercises/ex00_server.py`** (task 0): start a server, ping it, seed `Holberton` → `School`.
# * **`exercises/ex01_redis_client.py`** (task 1): the two connection messages, exactly as written above.
#
# Grade them with `queuekit learn check ex00_server` (or the cell above); `queuekit learn hint ex00_server` shows
# the next hint. Next lesson: basic and asynchronous operations.
