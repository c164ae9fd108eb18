"""Task 8 — Track progress and errors: the creator of 11 jobs.

Write `create_jobs(queue, jobs)`: for each dict of `jobs` (the list `JOBS` below, in order):

- create a job of type `push_notification_code_2` with that dict as data;
- listen to its events and print, with the job's id in place of JOB_ID:
  - on `complete`:  `Notification job #JOB_ID completed`
  - on `failed`:    `Notification job #JOB_ID failed: ERROR`          (the listener receives the error message)
  - on `progress`:  `Notification job #JOB_ID PERCENT% complete`      (the listener receives percent, data)
- save it and print `Notification job created: JOB_ID` (no `#` on this line, as in the original); JOB_ID is
  `job.id`, the id the queue gave, never a count of your own (on a server that already holds jobs the first id is
  not 1: the original shows 39 to 49);
- if a save fails (the server is down), let the error reach the caller: do not catch it;
- return the list of saved jobs, in order.

Put the listeners on each job (`job.on(...)`), before saving it: a listener on the queue (`queue.on(...)`) would
print for jobs that are not yours.

Careful with `lambda` in a loop: a lambda sees the variable's *last* value when it runs. Give each job its own
variable (`lambda result, job=job: ...`) or write a small function that creates one job.

The end of the file (given) creates the jobs, then waits until every job finished (with `wait_for_jobs`) so
that the listeners can print, and ends. The processor is task 9 (ex09_job_processor.py), another process.

Run it with the processor of task 9, both on one server. Start the server first, in a terminal of its own, and
leave it running:

    queuekit server --port 6390                                                  # terminal 1
    REDIS_URL=redis://127.0.0.1:6390 python exercises/ex08_job_creator.py      # terminal 2
    REDIS_URL=redis://127.0.0.1:6390 python exercises/ex09_job_processor.py    # terminal 3

The ids depend on what the server already holds: the queue's counter goes on from the jobs of the tasks before
(the original course shows #39 to #49). The sample below is what a fresh server shows, ids 1 to 11; on yours, read
#1 as your first id, #2 as the next, and so on. Terminal 2 prints `Notification job created: 1` ...
`Notification job created: 11`, then, as the processor works:

    Notification job #1 0% complete
    Notification job #2 0% complete
    Notification job #1 failed: Phone number 4153518780 is blacklisted
    Notification job #2 failed: Phone number 4153518781 is blacklisted
    Notification job #3 0% complete
    Notification job #3 50% complete
    Notification job #4 0% complete
    Notification job #4 50% complete
    Notification job #3 completed
    Notification job #4 completed
    ... (jobs 5 to 11 the same way: 0%, 50%, completed)

The processor runs two jobs at a time, each on its own thread, so the lines of those two jobs may interleave
(`#4 0%` before `#3 50%`, `#4 completed` before `#3 completed`). Each job's own lines always come in their order
(0%, then 50%, then completed), and never more than two jobs are under way: a third job starts only once one of
the two before it has ended, so `#5 0% complete` may come after `#3 completed` and before `#4 completed`, but never
before both.
"""

from __future__ import annotations

from queuekit import Queue
from queuekit.errors import JobFailed, WaitTimeout

JOB_TYPE = "push_notification_code_2"

JOBS = [
    {"phoneNumber": "4153518780", "message": "This is the code 1234 to verify your account"},
    {"phoneNumber": "4153518781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4153518743", "message": "This is the code 4321 to verify your account"},
    {"phoneNumber": "4153538781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4153118782", "message": "This is the code 4321 to verify your account"},
    {"phoneNumber": "4153718781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4159518782", "message": "This is the code 4321 to verify your account"},
    {"phoneNumber": "4158718781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4153818782", "message": "This is the code 4321 to verify your account"},
    {"phoneNumber": "4154318781", "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4151218782", "message": "This is the code 4321 to verify your account"},
]


def create_jobs(queue: Queue, jobs: list[dict]) -> list:
    """Create one push_notification_code_2 job per dict, with the three listeners; return the saved jobs."""
    # TODO: for each dict, in order: create a job of this task's type in the queue given, with that dict; put the
    # three listeners on that job (each must print that job's own id); save it, print the created line with the
    # id the queue gave, and keep it for the list you return
    raise NotImplementedError("create_jobs")


def wait_for_jobs(jobs: list, timeout: float = 60.0) -> None:
    """Wait until every job finished (completed or failed), then a moment more for the last listeners. (Given.)"""
    import time

    for job in jobs:
        try:
            job.wait(timeout)
        except (JobFailed, WaitTimeout):
            pass
    time.sleep(0.5)


if __name__ == "__main__":
    queue = Queue()
    created = create_jobs(queue, JOBS)
    wait_for_jobs(created)
