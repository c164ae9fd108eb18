"""Task 10 — Writing the job creation function.

Write `create_push_notifications_jobs(jobs, queue)`:

- if `jobs` is not a list, raise `TypeError("Jobs is not an array")` (that exact message) and create nothing;
- for each dict in `jobs`, create a job of type `push_notification_code_3` with the dict as data, and listen to
  it, printing (JOB_ID being the job's id):
  - on `complete`:  `Notification job #JOB_ID completed`
  - on `failed`:    `Notification job #JOB_ID failed: ERROR`
  - on `progress`:  `Notification job #JOB_ID PERCENT% complete`
- save each job, then print `Notification job created: JOB_ID` (JOB_ID is `job.id`, the id the queue gave: never
  a count of your own);
- if a save fails (the server is down), let the error reach the caller: do not catch it;
- return the list of saved jobs.

Use the queue passed in (never a `Queue()` of your own: task 11's tests pass a queue in test mode), and put the
listeners on each job (`job.on(...)`), before saving it, not on the queue. In test mode the saved jobs are captured
instead of stored, and the test mode numbers them itself, "1", "2", ... (from 1 again after each `clear()`):
called on such a queue with two jobs, your function prints `Notification job created: 1` and
`Notification job created: 2` (the grader checks it), as long as you print `job.id` after the save.

(Mind the `lambda` in a loop: see the hint of task 8.) Task 11 writes the tests of this function, so keep the
name and the argument order: `jobs` first, then `queue`.

The end of the file (given) is the original `8-job-main.js`. Start the server first, in a terminal of its own
(`queuekit server --port 6390`; if the one of the tasks before still runs, you may keep it), then:

    REDIS_URL=redis://127.0.0.1:6390 python exercises/ex10_job.py
    Notification job created: 1

1 is what a fresh server shows. On a server that still holds the jobs of tasks 6 to 9 (they use the same queue,
"default", and its one counter) you see the next id instead: N + 1 when the queue numbered N jobs before (the
original course's server had numbered 50, so it shows 51). Each run takes the next id.
"""

from __future__ import annotations

from queuekit import Queue

JOB_TYPE = "push_notification_code_3"


def create_push_notifications_jobs(jobs: list, queue: Queue) -> list:
    """Validate ``jobs``, then create, listen to and save one push_notification_code_3 job per dict."""
    # TODO: refuse anything that is not a list first, with the exact message, before creating anything; then, for
    # each dict, the same steps as task 8 (a job of this task's type in the queue given, its own three listeners,
    # the save, the created line with the queue's id); return the saved jobs
    raise NotImplementedError("create_push_notifications_jobs")


if __name__ == "__main__":
    queue = Queue()
    job_list = [
        {"phoneNumber": "4153518780", "message": "This is the code 1234 to verify your account"},
    ]
    create_push_notifications_jobs(job_list, queue)
