"""Two reuse patterns from the course's sources, built on Queue and Worker.

* :class:`Registry` (OpenPaaS ``jobqueue``): register named workers with a title builder, submit jobs by worker
  name, fetch them by id.
* :class:`ScriptQueue` (scriptr.io ``queue``): a queue bound to a channel that runs named, registered scripts with
  parameters, one after another. Only registered names can run: job data never names code to import.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .errors import HandlerNotFound, ValidationError
from .job import Job
from .queue import Queue
from .worker import Worker

__all__ = ["Registry", "ScriptQueue"]

logger = logging.getLogger(__name__)


class Registry:
    """OpenPaaS-style job registry.

    ``add_worker(name, handle, get_title)`` registers a handler ``handle(job)`` and ``get_title(data) -> str``;
    with ``process=True`` (the default) a worker for that name starts at once in the background, as OpenPaaS does.
    ``submit_job(name, data)`` stores ``{"title": get_title(data), **data}`` and returns the job id;
    ``get_job_by_id(id)`` returns the Job (or None).
    """

    def __init__(self, queue: Queue | None = None, *, process: bool = True, concurrency: int = 1,
                 **worker_options: Any) -> None:
        self.queue = queue or Queue()
        self.process = process
        self.concurrency = concurrency
        self.worker_options = worker_options
        self.handlers: dict[str, tuple[Callable[[Job], Any], Callable[[Any], str]]] = {}
        self.workers: dict[str, Worker] = {}

    def add_worker(self, name: Any = None, handle: Any = None, get_title: Any = None) -> None:
        """Register a worker; raises ValidationError with OpenPaaS's messages when a part is missing."""
        if not name or not isinstance(name, str):
            raise ValidationError("worker.name", "worker.name is required")
        if handle is None:
            raise ValidationError("worker.handler", "worker.handler is required")
        if not callable(handle):
            raise ValidationError("worker.handler.handle", "worker.handler.handle must be a function")
        if not callable(get_title):
            raise ValidationError("worker.handler.getTitle", "worker.handler.get_title function is required")
        self.handlers[name] = (handle, get_title)
        if self.process:
            self.workers[name] = Worker(self.queue, {name: self._runner(name)}, concurrency=self.concurrency,
                                        **self.worker_options).start()

    def _runner(self, name: str) -> Callable[[Job], Any]:
        handle, _ = self.handlers[name]

        def run(job: Job) -> Any:
            title = job.data.get("title", "") if isinstance(job.data, dict) else ""
            try:
                result = handle(job)
            except Exception:
                logger.info("Job queue failed: %s - %s", name, title)
                raise
            logger.info("Job queue done: %s - %s", name, title)
            return result

        return run

    def worker_for(self, name: str) -> Worker:
        """A (not started) Worker for the registered ``name``: run it in another process with ``run()``."""
        if name not in self.handlers:
            raise HandlerNotFound(f"Can not find worker for this job {name}")
        return Worker(self.queue, {name: self._runner(name)}, concurrency=self.concurrency, **self.worker_options)

    def submit_job(self, worker_name: Any = None, data: Any = None) -> str:
        """Queue a job for a registered worker; returns its id."""
        if not worker_name:
            raise ValidationError("workerName", "Cannot submit a job without workerName")
        if not isinstance(worker_name, str) or worker_name not in self.handlers:
            raise HandlerNotFound(f"Can not find worker for this job {worker_name}")
        data = {} if data is None else data
        if not isinstance(data, dict):
            raise ValidationError("data", f"expected a dict (the title is added to it), got {type(data).__name__}")
        _, get_title = self.handlers[worker_name]
        job = self.queue.add(worker_name, {"title": get_title(data), **data})
        assert job.id is not None
        return job.id

    def get_job_by_id(self, job_id: str | int) -> Job | None:
        """The job with this id, or None."""
        return self.queue.get_job(job_id)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every worker this registry started."""
        for worker in self.workers.values():
            worker.stop(timeout)


class ScriptQueue:
    """scriptr.io-style queue: ``ScriptQueue(channel).queue(script_path, params)``; ``jobs`` is its Queue.

    Scripts are functions ``fn(params) -> result`` registered under a path (``register(path)(fn)``); they run
    sequentially (concurrency 1) when a worker is started with :meth:`start` or :meth:`worker`.
    """

    JOB_TYPE = "script"

    def __init__(self, channel: str, *, client: Any = None, url: str | None = None) -> None:
        self.channel = channel
        self.jobs = Queue(channel, client=client, url=url)
        self.scripts: dict[str, Callable[[dict[str, Any]], Any]] = {}
        self._worker: Worker | None = None

    @classmethod
    def get_instance(cls, channel: str, **options: Any) -> ScriptQueue:
        """scriptr.io's ``queue.getInstance(channel)``."""
        return cls(channel, **options)

    def register(self, path: str) -> Callable[[Callable[[dict[str, Any]], Any]], Callable[[dict[str, Any]], Any]]:
        """Decorator: make ``fn(params)`` runnable as ``path``."""
        if not isinstance(path, str) or not path:
            raise ValidationError("script path", f"expected a non-empty string, got {path!r}")

        def decorate(fn: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
            self.scripts[path] = fn
            return fn

        return decorate

    def queue_script(self, script_path: str, params: dict[str, Any] | None = None) -> Job:
        """Queue a run of a registered script with ``params``; refused if the path is not registered."""
        if not isinstance(script_path, str) or script_path not in self.scripts:
            raise HandlerNotFound(f"no script registered at {script_path!r}; registered: {sorted(self.scripts)}")
        return self.jobs.add(self.JOB_TYPE, {"script": script_path, "params": params or {}})

    #: scriptr.io's spelling: ``client.queue("path/to/script", params)``
    queue = queue_script

    def _run(self, job: Job) -> Any:
        path = job.data.get("script") if isinstance(job.data, dict) else None
        fn = self.scripts.get(path) if isinstance(path, str) else None
        if fn is None:
            raise HandlerNotFound(f"no script registered at {path!r}")
        return fn(job.data.get("params") or {})

    def worker(self, **options: Any) -> Worker:
        """A Worker running this channel's scripts one at a time."""
        return Worker(self.jobs, {self.JOB_TYPE: self._run}, concurrency=1, **options)

    def start(self) -> Worker:
        """Start running scripts in the background."""
        self._worker = self.worker().start()
        return self._worker

    def stop(self, timeout: float = 10.0) -> None:
        if self._worker is not None:
            self._worker.stop(timeout)
