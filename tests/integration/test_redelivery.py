"""Messages a consumer held when its connection failed go back to their queue (a real Redis).

Dramatiq's consumer thread, on a connection error, drops its in-memory delay queue and makes a
new consumer; the worker lives on, so without RecoveringRedisBroker those messages stay in the
worker's ack set until it dies: a busy site's retry never runs again."""

import uuid

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker

from workers.redelivery import RecoveringRedisBroker


def delayed_message(broker, queue: str):
    """A message put on the delay queue (as dramatiq's Retry does), fetched by a first consumer
    whose thread then loses its connection: its delay queue is dropped, unacknowledged."""
    actor = dramatiq.actor(lambda: None, actor_name=f"noop_{uuid.uuid4().hex[:6]}", queue_name=queue, broker=broker)
    sent = broker.enqueue(actor.message(), delay=1)
    first = broker.consume(f"{queue}.DQ", prefetch=1, timeout=100)
    received = next(item for item in first if item is not None)
    assert received.message_id == sent.message_id
    return sent


def next_message(consumer, tries: int = 20):
    for _ in range(tries):
        message = next(consumer)
        if message is not None:
            return message
    return None


@pytest.mark.parametrize("broker_class, kept", [(RecoveringRedisBroker, True), (RedisBroker, False)],
                         ids=["recovering", "dramatiq-as-is"])
def test_a_delayed_message_dropped_by_a_restarted_consumer_is_delivered_again(broker_class, kept, redis_server):
    broker = broker_class(url=redis_server.url, namespace=f"test-{uuid.uuid4().hex[:8]}")
    try:
        sent = delayed_message(broker, "drills")
        second = broker.consume("drills.DQ", prefetch=1, timeout=100)  # the thread's restart
        again = next_message(second)
        assert (again is not None and again.message_id == sent.message_id) is kept
    finally:
        broker.flush_all()
        broker.close()


def test_a_message_being_processed_is_not_requeued_by_a_restart(redis_server):
    broker = RecoveringRedisBroker(url=redis_server.url, namespace=f"test-{uuid.uuid4().hex[:8]}")
    try:
        actor = dramatiq.actor(lambda: None, actor_name=f"noop_{uuid.uuid4().hex[:6]}", queue_name="work",
                               broker=broker)
        broker.enqueue(actor.message())
        first = broker.consume("work", prefetch=1, timeout=100)
        in_progress = next_message(first)
        second = broker.consume("work", prefetch=1, timeout=100)
        assert next_message(second, tries=5) is None, "the message a worker thread runs is not given out twice"
        second.ack(in_progress)
    finally:
        broker.flush_all()
        broker.close()
