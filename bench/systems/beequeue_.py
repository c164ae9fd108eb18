"""bee-queue (Node): createJob().save() / saveAll; queue.process(C, handler), library defaults."""
from bench.systems.node import NodeAdapter


class BeeQueue(NodeAdapter):
    name = "bee-queue"
    package = "bee-queue"
    script = "beequeue.js"

    def describe(self, workload, concurrency, variant=""):
        return {"enqueue": "createJob().save()", "enqueue_bulk": "saveAll (all jobs in one call)",
                "drain": f"process({concurrency}, handler)", "latency": "process(1, handler)"}.get(workload, "")


ADAPTER = BeeQueue
