"""The deliberately wrong versions of the exercises, each written as the small change it makes to the reference
solution (``# WRONG`` marks the mistake). Keeping them as changes, not copies, keeps them in step with the solutions:
a change that no longer applies fails loudly (see ``build_wrong_version``)."""

from __future__ import annotations

from pathlib import Path

SOLUTIONS = Path(__file__).resolve().parents[2] / "exercises" / "solutions"

# folder name -> [(file, text in the solution, text in the wrong version)]
MUTATIONS: dict[str, list[tuple[str, str, str]]] = {
    'ex00_wrong_key': [
        ('ex00_server.py',
         '    client.set("Holberton", "School")\n    return client.get("Holberton")\n',
         '    client.set("holberton", "School")  # WRONG: the key is Holberton\n    return client.get("holberton")\n'),
    ],
    'ex01_wrong_message': [
        ('ex01_redis_client.py',
         '    print("Redis client connected to the server")\n',
         '    print("Redis client connected to server")  # WRONG: "the" is missing\n'),
    ],
    'ex02_no_reply': [
        ('ex02_redis_op.py',
         '    redis_print(reply)\n',
         '    # WRONG: forgets to print the reply with redis_print\n'),
    ],
    'ex03_missing_await': [
        ('ex03_redis_op_async.py',
         '    print(await client.get(school_name))\n',
         '    print(client.get(school_name))  # WRONG: the await is missing\n'),
    ],
    'ex04_one_hset': [
        ('ex04_redis_advanced_op.py',
         '    for field, value in SCHOOLS.items():\n        redis_print(client.hset(KEY, field, value))\n',
         '    redis_print(client.hset(KEY, mapping=SCHOOLS))  # WRONG: one HSET for all fields, one reply\n'),
    ],
    'ex05_ignores_kill_server': [
        ('ex05_subscriber.py',
         '    return message == "KILL_SERVER"\n',
         '    return False  # WRONG: never stops, even on KILL_SERVER\n'),
    ],
    'ex06_wrong_queue_name': [
        ('ex06_job_creator.py',
         '    job = queue.create(JOB_TYPE, data)\n',
         '    job = queue.create("push_notification", data)  # WRONG: the job type is push_notification_code\n'),
    ],
    'ex07_wrong_job_type': [
        ('ex07_job_processor.py',
         'JOB_TYPE = "push_notification_code"\n',
         'JOB_TYPE = "push_notification_code_2"  # WRONG: this is task 9\'s job type\n'),
    ],
    'ex08_late_binding': [
        ('ex08_job_creator.py',
         '    created = []\n',
         '    created = []  # WRONG: the lambdas below see the last job of the loop\n'),
        ('ex08_job_creator.py',
         '        job.on("complete", lambda result, job=job: print(f"Notification job #{job.id} completed"))\n        job.on("failed", lambda error, job=job: print(f"Notification job #{job.id} failed: {error}"))\n        job.on("progress", lambda percent, data, job=job: print(f"Notification job #{job.id} {percent}% complete"))\n',
         '        job.on("complete", lambda result: print(f"Notification job #{job.id} completed"))\n        job.on("failed", lambda error: print(f"Notification job #{job.id} failed: {error}"))\n        job.on("progress", lambda percent, data: print(f"Notification job #{job.id} {percent}% complete"))\n'),
    ],
    'ex08_no_progress': [
        ('ex08_job_creator.py',
         '        job.on("progress", lambda percent, data, job=job: print(f"Notification job #{job.id} {percent}% complete"))\n',
         '        # WRONG: no progress listener\n'),
    ],
    'ex09_no_blacklist': [
        ('ex09_job_processor.py',
         '    if phone_number in BLACKLISTED:\n        done(Exception(f"Phone number {phone_number} is blacklisted"))\n        return\n',
         '    # WRONG: the blacklist is never checked\n'),
    ],
    'ex09_one_at_a_time': [
        ('ex09_job_processor.py',
         '    return queue.process(JOB_TYPE, handle_job, concurrency=2)\n',
         '    return queue.process(JOB_TYPE, handle_job)  # WRONG: one job at a time\n'),
    ],
    'ex10_no_validation': [
        ('ex10_job.py',
         '    if not isinstance(jobs, list):\n        raise TypeError("Jobs is not an array")\n',
         '    # WRONG: jobs is never checked\n'),
    ],
    'ex11_length_only': [
        ('ex11_job_test.py',
         '    for job, data in zip(jobs, JOBS):\n        assert job.type == "push_notification_code_3"\n        assert job.data == data\n',
         '    # WRONG: only the number of jobs is checked, not their type nor their data\n'),
    ],
    'ex12_int_path': [
        ('ex12_stock.py',
         'async def product_detail(item_id: str):\n    item = _find(item_id)\n',
         'async def product_detail(item_id: int):  # WRONG: FastAPI answers its own 422 error for /list_products/abc\n    item = get_item_by_id(item_id)\n'),
    ],
    'ex12_racy_reservation': [
        ('ex12_stock.py',
         '    key = f"item.{item[\'itemId\']}"\n    reserved = await client.incr(key)\n    if reserved > item["initialAvailableQuantity"]:\n        await client.decr(key)\n',
         '    # WRONG: read, then write: two requests at once both read the same count (a race)\n    reserved = await get_current_reserved_stock_by_id(client, item["itemId"])\n    if reserved >= item["initialAvailableQuantity"]:\n'),
        ('ex12_stock.py',
         '        return False\n    return True\n',
         '        return False\n    await reserve_stock_by_id(client, item["itemId"], reserved + 1)\n    return True\n'),
    ],
    'ex13_racy_seats': [
        ('ex13_seat.py',
         'import os\nimport threading\n',
         'import os\nimport time\nimport threading\n'),
        ('ex13_seat.py',
         '    """The reserve_seat handler: take one seat atomically, or fail when none is left."""\n    client = get_client()\n',
         '    """The reserve_seat handler: take one seat atomically, or fail when none is left."""\n    # WRONG: read, then write: two workers at once take the same seat (a race)\n    client = get_client()\n'),
        ('ex13_seat.py',
         '    remaining = client.decr("available_seats")\n    if remaining <= 0:\n',
         '    current = int(get_current_available_seats(client))\n    if current <= 0:\n        raise Exception("Not enough seats available")\n    time.sleep(0.01)  # some work between the read and the write widens the race window\n    reserve_seat(client, current - 1)\n    if current - 1 == 0:\n'),
        ('ex13_seat.py',
         '    if remaining < 0:\n        client.incr("available_seats")\n        raise Exception("Not enough seats available")\n',
         ''),
    ],
    'ex14_no_retries': [
        ('ex14_retries.py',
         '    job = queue.create("email", {"to": to}).attempts(3).backoff({"type": "exponential", "delay": 100})\n',
         '    job = queue.create("email", {"to": to})  # WRONG: no attempts, no backoff: the first error is final\n'),
    ],
    'ex15_no_restart': [
        ('ex15_worker_pool.py',
         '                    print(f"worker {index} died (exit code {code}), restarting")\n                    workers[index] = start_worker_process()\n                    print(f"worker {index} started (pid {workers[index].pid})")\n',
         '                    pass  # WRONG: a dead worker is never replaced\n'),
    ],
    'ex16_title_without_user': [
        ('ex16_registry_app.py',
         '    return f"Import {len(data[\'contacts\'])} contacts for {data[\'user\']}"\n',
         '    return f"Import {len(data[\'contacts\'])} contacts"  # WRONG: the user is missing from the title\n'),
    ],
}


def build_wrong_version(folder: str, files: list[str], target: Path) -> Path:
    """Write the exercise's ``files`` into ``target``: the reference solutions with ``folder``'s changes applied."""
    target.mkdir(parents=True, exist_ok=True)
    texts = {name: (SOLUTIONS / name).read_text(encoding="utf-8") for name in files}
    for name, old, new in MUTATIONS[folder]:
        found = texts[name].count(old)
        assert found == 1, f"{folder}: the text to change occurs {found} times in solutions/{name} (expected once)"
        texts[name] = texts[name].replace(old, new)
    assert any("# WRONG" in text for text in texts.values()), f"{folder}: mark the mistake with # WRONG"
    for name, text in texts.items():
        (target / name).write_text(text, encoding="utf-8")
    return target
