"""Child process for the embedded-queue durability tests: publishes batches, reports each ack.

Usage: ``_queue_writer.py PATH TOPIC WRITER BATCHES BATCH_SIZE [PAUSE]``. It prints ``ready``
once the file is open, waits for a line on stdin, then publishes values ``WRITER-INDEX`` and
prints the last index of every batch after ``publish`` returned (so a printed index is
acknowledged), sleeping PAUSE seconds between batches so that concurrent writers interleave.
"""

from __future__ import annotations

import sys
import time

from connectors.queues import EmbeddedQueue


def main(argv: list[str]) -> int:
    path, topic, writer, batches, size = argv[0], argv[1], argv[2], int(argv[3]), int(argv[4])
    pause = float(argv[5]) if len(argv) > 5 else 0.0
    queue = EmbeddedQueue(path)
    queue.check()
    print("ready", flush=True)
    sys.stdin.readline()
    for batch in range(batches):
        first = batch * size
        records = [(writer, f"{writer}-{i}".encode()) for i in range(first, first + size)]
        queue.publish(topic, records)
        print(first + size - 1, flush=True)
        time.sleep(pause)
    queue.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
