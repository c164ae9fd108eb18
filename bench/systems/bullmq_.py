"""BullMQ (Node): Queue.add / Queue.addBulk; Worker(concurrency=C), library defaults."""
from bench.systems.node import NodeAdapter


class BullMQ(NodeAdapter):
    name = "bullmq"
    package = "bullmq"
    script = "bullmq.js"

    def describe(self, workload, concurrency, variant=""):
        return {"enqueue": "Queue.add", "enqueue_bulk": "Queue.addBulk (all jobs in one call)",
                "drain": f"Worker(concurrency={concurrency})", "latency": "Worker(concurrency=1)"}.get(workload, "")


ADAPTER = BullMQ
