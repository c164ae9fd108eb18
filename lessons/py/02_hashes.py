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
# # Lesson 02 · Hashes: many fields under one key
#
# So far each key held one string. A **hash** holds many *fields* under one key, like a small dictionary stored in
# Redis: perfect for a record with several attributes. Task 4 of the course stores how many students each city has
# in a hash called `HolbertonSchools`, then reads the whole hash back.
#
# | command | what it does | reply |
# |---|---|---|
# | `HSET key field value` | set one field | 1 if the field is new, 0 if it was updated |
# | `HGET key field` | read one field | the value, or nothing |
# | `HGETALL key` | read every field | all fields and values |
# | `HINCRBY key field n` | add n to a numeric field | the new value |
# | `HDEL key field` | delete a field | how many were deleted |
#
# The last part of the lesson shows why this matters for queues: **every queuekit job is a hash**.

# %%
from queuekit import connect

client = connect()
KEY = "HolbertonSchools"
client.delete(KEY)   # start from an empty hash, so the replies below are the ones of a first run
SCHOOLS = {"Portland": 50, "Seattle": 80, "New York": 20, "Bogota": 20, "Cali": 40, "Paris": 2}


def redis_print(reply=None, error=None):
    """node_redis's redis.print, from lesson 01."""
    print(error if error is not None else f"Reply: {'OK' if reply is True else reply}")

# %% [markdown]
# ## 1. Create the hash, one `HSET` per field (task 4)
#
# Each `HSET` creates one field, so each reply is `1`: six lines `Reply: 1`.
#
# (The exercise also handles an `HSET` the server refuses, as task 2 did for `SET`: it prints the error with
# `redis_print(None, error)` and goes on with the next school. Here the server accepts every one.)

# %%
import contextlib
import io

captured = io.StringIO()
with contextlib.redirect_stdout(captured):
    for city, students in SCHOOLS.items():
        redis_print(client.hset(KEY, city, students))
print(captured.getvalue())
assert captured.getvalue().splitlines() == ["Reply: 1"] * 6

# %% [markdown]
# Run the same `HSET`s again and the fields already exist: Redis updates them and answers `0`. That is why the
# original course notes that "a re-run prints `Reply: 0`", and why this lesson deleted the key first.

# %%
again = [client.hset(KEY, city, students) for city, students in SCHOOLS.items()]
assert again == [0] * 6

# %% [markdown]
# ## 2. Read it back with `HGETALL`
#
# redis-py gives the hash back as a Python `dict`. Notice two things:
#
# * the values are **strings** (`'50'`, not `50`): Redis stores text;
# * the fields come back in the order they were added (for a small hash; do not rely on it for big ones).
#
# Printing the dict is the "display" of task 4, in Python's own format.

# %%
schools = client.hgetall(KEY)
print(schools)
assert schools == {"Portland": "50", "Seattle": "80", "New York": "20", "Bogota": "20", "Cali": "40", "Paris": "2"}
assert list(schools) == list(SCHOOLS)

# %% [markdown]
# ## 3. Work on single fields
#
# You rarely need the whole hash. `HGET` reads one field, `HINCRBY` changes a number *inside Redis* (no read,
# add, write from Python, so two programs doing it at once cannot lose an update), `HDEL` removes a field. And
# `HSET` can set several fields in one command with `mapping=`.

# %%
assert client.hget(KEY, "Paris") == "2"
assert client.hincrby(KEY, "Paris", 3) == 5
assert client.hdel(KEY, "Cali") == 1
assert client.hset(KEY, mapping={"Lagos": 12, "Nairobi": 7}) == 2
assert client.hlen(KEY) == 7
assert client.hget(KEY, "Cali") is None

# %% [markdown]
# ## 4. A queue job is a hash
#
# A job has several attributes: its type, its data, its state, how far it got, when it started… That is a record,
# so queuekit stores each job as a hash. Let us create one job and look at it with plain Redis commands. (Lesson 04
# explains queues properly; here we only peek.)

# %%
from queuekit import Queue

queue = Queue("lesson02")
queue.obliterate()    # delete every key of this queue: a clean start, whatever ran before
job = queue.add("push_notification_code", {"phoneNumber": "4153518780", "message": "This is the code 1234"})

job_key = queue.keys.job(job.id)
print("the job lives in the key", job_key)
fields = client.hgetall(job_key)
print(fields)
assert client.type(job_key) == "hash"
assert fields["type"] == "push_notification_code"
assert fields["state"] == "inactive"          # waiting for a worker
assert fields["data"] == '{"phoneNumber":"4153518780","message":"This is the code 1234"}'   # the data as JSON

# %% [markdown]
# In a notebook, queuekit objects also show themselves as tables: put a job (or a queue) alone on the last line of
# a cell.

# %%
job

# %% [markdown]
# `obliterate()` cleans up: it deletes every key of the queue and answers how many it deleted.

# %%
removed = queue.obliterate()
assert removed > 0 and not client.exists(job_key)

# %% [markdown]
# ## Grade an exercise here
#
# Task 4 is the exercise `ex04_redis_advanced_op`.

# %%
from queuekit.learn import check
from queuekit.learn.views import results_table

result = check("ex04_redis_advanced_op")
assert result.status in ("pass", "fail", "error") and result.name == "ex04_redis_advanced_op"
results_table(result)

# %% [markdown]
# ## Your exercise
#
# * **`exercises/ex04_redis_advanced_op.py`** (task 4): create `HolbertonSchools` with one `HSET` per city, print
#   each reply with `redis_print`, then print the whole hash.
#
# Next lesson: publish and subscribe, where two programs talk to each other through Redis.
