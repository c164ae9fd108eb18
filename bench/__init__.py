"""queuekit benchmark harness: queuekit against RQ, arq, SAQ, Huey, BullMQ and bee-queue.

Run ``python -m bench --help``. See bench/README.md for what is measured and how.
"""
