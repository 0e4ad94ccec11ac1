"""Dramatiq's Redis broker, keeping its at-least-once promise across a lost connection.

The Redis broker marks every message a worker fetches as held by that worker (its ack set)
until it is acknowledged; a dead worker's messages go back to their queue. But when a
consumer's connection fails (a Redis stall, a restart), dramatiq drops what that consumer held
in memory: the messages it had prefetched and not handed out, and, for a delay queue, every
delayed message waiting for its time (a busy site's retry, an error's backoff). The worker
lives on and keeps its heartbeat, so nothing ever gives those messages back: they are lost
until the worker itself dies. `RecoveringRedisBroker` gives them back: when a queue's consumer
is made again, what the previous one held and nobody processes is requeued (a message still
being processed or waiting in the work queue is left alone; requeuing a message that is no
longer held is a no-op in the broker's script, so nothing runs twice).
"""

import logging

from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.message import Message

log = logging.getLogger("restore_drill.redelivery")


class TrackingConsumer(_RedisConsumer):
    """A Redis consumer that knows the broker ids of the messages it handed out and not yet
    acknowledged, so that a successor can tell what was dropped."""

    def __init__(self, broker, queue_name, prefetch, timeout):
        super().__init__(broker, queue_name, prefetch, timeout)
        self.handed_out: set[str] = set()

    def __next__(self):
        message = super().__next__()
        if message is not None:
            self.handed_out.add(message.options["redis_message_id"])
        return message

    def ack(self, message):
        self.handed_out.discard(message.options["redis_message_id"])
        super().ack(message)

    def nack(self, message):
        self.handed_out.discard(message.options["redis_message_id"])
        super().nack(message)

    def dropped(self) -> list[str]:
        """What this consumer held that its thread no longer holds once it restarts: the
        prefetched messages never handed out, and for a delay queue the handed-out ones too
        (dramatiq empties its delay queue on a connection error)."""
        cached = [Message.decode(data).options["redis_message_id"] for data in self.message_cache if data]
        return cached + (sorted(self.handed_out) if self.queue_name.endswith(".DQ") else [])


class RecoveringRedisBroker(RedisBroker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.last_consumers: dict[str, TrackingConsumer] = {}

    @property
    def consumer_class(self):
        return TrackingConsumer

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000) -> TrackingConsumer:
        previous = self.last_consumers.get(queue_name)
        if previous is not None:
            dropped = previous.dropped()
            if dropped:  # may raise while Redis is still away: then the next restart tries again
                self.do_requeue(queue_name, *dropped)
                log.warning("messages held by a restarted consumer requeued",
                            extra={"queue": queue_name, "messages": len(dropped)})
        consumer = super().consume(queue_name, prefetch, timeout)
        self.last_consumers[queue_name] = consumer
        return consumer
