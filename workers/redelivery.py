"""Dramatiq's Redis broker, keeping its at-least-once promise when Redis stalls or goes away.

The Redis broker marks every message a worker fetches as held by that worker (its ack set) until
it is acknowledged; a dead worker's messages go back to their queue. A live worker loses
messages three ways when a broker command gets no answer (a Redis stall, a restart, a network
cut), and nothing gives them back while its heartbeat lives on:
- A fetch sent before the stall runs once Redis wakes, but its reply was given up on: the
  messages it moved into the worker's ack set were never handed to anyone.
- The consumer thread, on a connection error, drops what it held in memory: prefetched messages
  and, for a delay queue, every delayed message waiting for its time (a busy site's retry, an
  error's backoff). dramatiq only counts `redis.ConnectionError` as a connection error: a
  `redis.TimeoutError` took its "unexpected error" path, which can kill the consumer thread.
- The Retries middleware enqueues a message's retry and dramatiq then acknowledges the message,
  even when that enqueue failed (the middleware's error is only logged).

So, at this depth:
- Every broker command that gets no answer raises `RedisUnreachable`, which dramatiq handles as
  a connection error (the consumer is made again, an acknowledgement is retried until Redis
  answers) and callers catching Redis errors still catch.
- When a queue's consumer is made, whatever Redis says this worker holds for that queue and no
  thread of it holds goes back to the queue (`give_back`).
- `DurableRetries` stores a retry before its message is acknowledged, trying until Redis answers.

Giving back can deliver a message twice (a reply lost after its command ran); the drill actor
drops a delivery of a drill that already concluded, so a drill still concludes once.
"""

import logging
import time
from contextlib import contextmanager

import redis
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.errors import BrokerConnectionError, ConnectionClosed
from dramatiq.middleware import Retries, default_middleware

log = logging.getLogger("restore_drill.redelivery")
ENQUEUE_RETRY_SECONDS = 1


class RedisUnreachable(ConnectionClosed, redis.ConnectionError):
    """A broker command Redis did not answer (connection lost, or no reply in time)."""


@contextmanager
def answered():
    """Redis not answering, raised as RedisUnreachable."""
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as error:
        raise RedisUnreachable(str(error)) from None


class TrackingConsumer(_RedisConsumer):
    """A Redis consumer recording, in a set its successors share, the broker ids of the messages
    handed to this worker's threads and not yet acknowledged or requeued."""

    def __init__(self, broker, queue_name, prefetch, timeout, held: set[str]):
        super().__init__(broker, queue_name, prefetch, timeout)
        self.held = held

    def __next__(self):
        message = super().__next__()
        if message is not None:
            self.held.add(message.options["redis_message_id"])
        return message

    def ack(self, message):
        self.held.discard(message.options["redis_message_id"])
        super().ack(message)

    def nack(self, message):
        self.held.discard(message.options["redis_message_id"])
        super().nack(message)

    def requeue(self, messages):
        messages = list(messages)
        self.held.difference_update(message.options["redis_message_id"] for message in messages)
        super().requeue(messages)


class RecoveringRedisBroker(RedisBroker):
    def __init__(self, *args, middleware=None, **kwargs):
        if middleware is None:
            middleware = [DurableRetries() if kind is Retries else kind() for kind in default_middleware]
        super().__init__(*args, middleware=middleware, **kwargs)
        self.held: dict[str, set[str]] = {}

    def _dispatch(self, command):
        dispatch = super()._dispatch(command)

        def dispatch_answered(queue_name, *args):
            with answered():
                return dispatch(queue_name, *args)

        return dispatch_answered

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000) -> TrackingConsumer:
        held = self.held.setdefault(queue_name, set())
        if queue_name.endswith(".DQ"):
            held.clear()  # a delay queue's messages live in the consumer thread, which dropped them
        self.give_back(queue_name, held)
        return TrackingConsumer(self, queue_name, prefetch, timeout, held)

    def give_back(self, queue_name: str, held: set[str]) -> None:
        """Requeue what Redis says this worker holds for `queue_name` and none of its threads
        holds (requeuing a message acknowledged meanwhile is a no-op in the broker's script)."""
        with answered():
            owned = {member.decode() for member in self.client.smembers(self.acks_key(queue_name))}
        orphans = sorted(owned - held)
        if orphans:
            self.do_requeue(queue_name, *orphans)
            log.warning("messages this worker held and no thread of it holds requeued",
                        extra={"queue": queue_name, "messages": len(orphans)})

    def acks_key(self, queue_name: str) -> str:
        """The set of messages this worker fetched from `queue_name` and has not acknowledged
        (named as dramatiq's dispatch.lua names it)."""
        return f"{self.namespace}:__acks__.{self.broker_id}.{queue_name}"


class DurableRetries(Retries):
    """dramatiq's Retries, except that a retry is stored before the message it retries is
    acknowledged: an enqueue Redis does not answer is tried again until it does. A worker that
    dies meanwhile leaves the message unacknowledged, and it is delivered again."""

    def after_process_message(self, broker, message, *, result=None, exception=None):
        super().after_process_message(StoringBroker(broker), message, result=result, exception=exception)


class StoringBroker:
    """The broker, as seen by DurableRetries: its enqueue returns once Redis has stored the message."""

    def __init__(self, broker):
        self.broker = broker

    def __getattr__(self, name):
        return getattr(self.broker, name)

    def enqueue(self, message, *, delay=None):
        while True:
            try:
                return self.broker.enqueue(message, delay=delay)
            except (BrokerConnectionError, redis.ConnectionError, redis.TimeoutError):
                log.warning("a retry could not be stored yet: Redis did not answer; trying again",
                            extra={"message_id": message.message_id})
                time.sleep(ENQUEUE_RETRY_SECONDS)
