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
# # Lesson 03 · Publish and subscribe: two programs talk through Redis
#
# Until now one program wrote and read its own data. The point of a shared server is that **several programs** can
# use it at once. The simplest way for them to talk is **pub/sub** (publish / subscribe):
#
# * a *subscriber* tells Redis "send me every message published on channel X", then waits;
# * a *publisher* sends a message on channel X; Redis passes it at once to every subscriber listening *right now*.
#
# Task 5 of the course builds a subscriber and a publisher on the channel `holberton school channel`. The
# subscriber prints every message, and when the message is `KILL_SERVER` it unsubscribes and quits. The publisher
# sends four messages, waiting before each one (100, 200, 300, then 400 ms in the exercise); the fourth comes after
# `KILL_SERVER`, so nobody ever sees it.
#
# The lesson ends with the catch that leads to queues: a message nobody is listening to is **lost**.

# %%
from queuekit import connect

CHANNEL = "holberton school channel"
client = connect()
assert client.ping()

# %% [markdown]
# ## 1. A subscriber inside the notebook
#
# queuekit's `Subscriber(channels, handler, stop_on=...)` does the subscribing for us. `start()` runs it in a
# background *thread* (a second line of execution inside this notebook), so the notebook stays free to publish.
#
# One rule for notebooks: **never print from a background thread**. Jupyter may show the text under whichever cell
# happens to be running, or drop it. So our handler appends each message to a list, and the notebook prints the
# list afterwards.

# %%
from queuekit.pubsub import Subscriber

received = []
subscriber = Subscriber(CHANNEL, received.append, stop_on="KILL_SERVER").start()
assert subscriber.subscribed.is_set()   # start() returns once Redis confirmed the subscription

# %% [markdown]
# ## 2. The publisher: `publish_message(client, message, delay_ms)`
#
# After `delay_ms` milliseconds, the function prints `About to send MESSAGE` and publishes the message. `PUBLISH`
# answers how many subscribers received it: 1 here, our subscriber.

# %%
import time


def publish_message(client, message, delay_ms):
    """Wait delay_ms milliseconds, announce the message, publish it; returns how many subscribers got it."""
    time.sleep(delay_ms / 1000)
    print(f"About to send {message}")
    return client.publish(CHANNEL, message)


counts = [publish_message(client, "Holberton Student #1 starts course", 100),
          publish_message(client, "Holberton Student #2 starts course", 200),
          publish_message(client, "KILL_SERVER", 300),
          publish_message(client, "Holberton Student #3 starts course", 400)]
subscriber.join(timeout=5)

print("the subscriber received:", received)
assert received == ["Holberton Student #1 starts course", "Holberton Student #2 starts course", "KILL_SERVER"]
assert counts == [1, 1, 1, 0]        # the fourth message reached nobody: the subscriber had left
assert not subscriber.running

# %% [markdown]
# ## 3. Two real processes
#
# The course runs the subscriber and the publisher as **two separate programs**. Separate programs (processes)
# share no memory: the only thing they share is the Redis server, over the network. The in-process embedded store
# of lesson 00 is invisible to another process, so we need a server with a TCP port: the real Redis if `REDIS_URL`
# is set, otherwise an `EmbeddedServer` started here.
#
# The subscriber below is a complete script that prints what the exercise's subscriber prints (the exercise splits
# the same work into `connect_client`, `handle_message` and `listen`). We save it to a temporary folder and start it
# with `subprocess`, as you would from a terminal, giving it the server's address in `REDIS_URL`. In its own
# process, printing is fine. In a terminal you would share a server the same way: `queuekit server --port 6390` in
# a terminal of its own, and `REDIS_URL=redis://127.0.0.1:6390` for each script.

# %%
import os
import tempfile
from pathlib import Path

from queuekit.server import EmbeddedServer

server = None
url = os.environ.get("REDIS_URL")
if url is None:
    server = EmbeddedServer(port=0).start()
    url = server.url
print("shared server:", url)

SUBSCRIBER = '''
from queuekit import connect
from queuekit.errors import ConnectionFailed
from queuekit.pubsub import Subscriber

CHANNEL = "holberton school channel"
try:
    client = connect()          # REDIS_URL tells it where the server is
except ConnectionFailed as error:
    print(f"Redis client not connected to the server: {error}")   # then the script ends normally (status 0)
else:
    print("Redis client connected to the server", flush=True)
    Subscriber(CHANNEL, lambda message: print(message, flush=True), stop_on="KILL_SERVER", client=client).run()
'''
folder = Path(tempfile.mkdtemp(prefix="lesson03-"))
(folder / "subscriber.py").write_text(SUBSCRIBER);

# %%
import subprocess
import sys

shared = connect(url)
process = subprocess.Popen([sys.executable, "subscriber.py"], cwd=folder, env={**os.environ, "REDIS_URL": url},
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

deadline = time.monotonic() + 20
while shared.pubsub_numsub(CHANNEL)[0][1] < 1:   # how many clients listen on the channel?
    assert process.poll() is None, process.stdout.read()
    assert time.monotonic() < deadline, "the subscriber did not subscribe in time"
    time.sleep(0.05)

for message in ["Holberton Student #1 starts course", "Holberton Student #2 starts course", "KILL_SERVER",
                "Holberton Student #3 starts course"]:
    time.sleep(0.1)
    print(f"About to send {message}")
    shared.publish(CHANNEL, message)

output, _ = process.communicate(timeout=20)
print("--- the subscriber process printed:")
print(output)
assert process.returncode == 0        # it quit by itself after KILL_SERVER
assert output.splitlines() == ["Redis client connected to the server", "Holberton Student #1 starts course",
                               "Holberton Student #2 starts course", "KILL_SERVER"]

# %% [markdown]
# ## 4. The catch: pub/sub forgets
#
# Pub/sub delivers a message only to the subscribers listening *at that moment*. Nobody listening? The message is
# gone: Redis keeps no copy. That is fine for live notifications, but not for work that **must** be done (sending
# a verification code, charging a card): if the worker was restarting at that moment, the work would never happen.
#
# A **queue** fixes this: the producer *stores* the job in Redis, and a worker takes it whenever it is ready, even
# if it starts an hour later. That is the next lesson.

# %%
assert shared.publish(CHANNEL, "Is anybody there?") == 0   # nobody listens: lost for good
shared.close()
if server is not None:
    server.stop()

# %% [markdown]
# ## Grade an exercise here
#
# Task 5 is the exercise `ex05_pubsub` (two files: `ex05_subscriber.py` and `ex05_publisher.py`). The grader runs
# them as two real processes against one server and checks what each prints, in order.

# %%
from queuekit.learn import check
from queuekit.learn.views import results_table

result = check("ex05_pubsub")
assert result.status in ("pass", "fail", "error") and result.name == "ex05_pubsub"
results_table(result)

# %% [markdown]
# ## Your exercise
#
# * **`exercises/ex05_subscriber.py`** and **`exercises/ex05_publisher.py`** (task 5): the subscriber prints every
#   message of `holberton school channel` and quits after `KILL_SERVER`; the publisher's `publish_message` waits,
#   prints `About to send MESSAGE` and publishes.
#
# Next lesson: a first queue, with a job creator and a job processor.
