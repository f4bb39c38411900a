"""The Kafka queue backend (kafka-python): partitioned topics read by consumer groups.

    kafka://HOST:PORT[,HOST:PORT...][?OPTION=VALUE&...]

Options: ``session_timeout_ms`` (10000) and ``heartbeat_interval_ms`` (3000) of consumer
groups, ``fetch_max_wait_ms`` (100), ``timeout_seconds`` (30) allowed per broker call,
``namespace`` (a prefix for topic and group names on the broker) and ``client_id``.

Clients connect on first use. A topic used before ``create_topics`` named it is created with
one partition. ``publish`` returns once the broker acknowledged every record (``acks=all``).
Library errors are translated here: a broker that cannot be reached is
``QueueUnavailableError``, anything else ``QueueError``, each naming the cause.
"""

from connectors.queues.kafka.consumer import KafkaGroupConsumer, partition_offsets
from connectors.queues.kafka.options import KafkaOptions
from connectors.queues.kafka.queue import KafkaQueue

__all__ = ["KafkaGroupConsumer", "KafkaOptions", "KafkaQueue", "partition_offsets"]
