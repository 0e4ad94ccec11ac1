"""No message lost while Redis stalls (a real Redis, paused with SIGSTOP where it must be).

Dramatiq's consumer thread, on a connection error, drops its in-memory delay queue and makes a
new consumer; a fetch given up on still runs once Redis wakes; a retry whose enqueue fails is
acknowledged anyway. The worker lives on, so without RecoveringRedisBroker those messages stay
in the worker's ack set until it dies, or vanish: a busy site's retry never runs again."""

import os
import signal
import threading
import uuid
from contextlib import contextmanager

import dramatiq
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.message import Message

from workers.redelivery import RecoveringRedisBroker, RedisUnreachable


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


@pytest.mark.parametrize("broker_class, kept", [(RecoveringRedisBroker, True), (RedisBroker, False)],
                         ids=["recovering", "dramatiq-as-is"])
def test_messages_a_fetch_took_without_handing_them_out_are_delivered_by_the_next_consumer(broker_class, kept,
                                                                                          redis_server):
    """A fetch whose reply was given up on (Redis answered too late) still moved its messages
    into the worker's ack set: the next consumer of the queue gives them back."""
    broker = broker_class(url=redis_server.url, namespace=f"test-{uuid.uuid4().hex[:8]}")
    try:
        actor = dramatiq.actor(lambda: None, actor_name=f"noop_{uuid.uuid4().hex[:6]}", queue_name="work",
                               broker=broker)
        sent = broker.enqueue(actor.message())
        assert len(broker.do_fetch("work", 1)) == 1, "the fetch ran in Redis; its reply is dropped here"
        again = next_message(broker.consume("work", prefetch=1, timeout=100), tries=5)
        assert (again is not None and again.message_id == sent.message_id) is kept
    finally:
        broker.flush_all()
        broker.close()


@contextmanager
def redis_frozen_for(redis_server, seconds: float):
    """Redis stopped (SIGSTOP) now, and woken by a timer `seconds` later."""
    os.kill(redis_server.process.pid, signal.SIGSTOP)
    wake = threading.Timer(seconds, os.kill, (redis_server.process.pid, signal.SIGCONT))
    wake.start()
    try:
        yield
    finally:
        wake.join()
        os.kill(redis_server.process.pid, signal.SIGCONT)


@contextmanager
def redis_down_for(redis_server, seconds: float):
    """Redis stopped now (its data kept on disk), and started again by a timer `seconds` later."""
    redis_server.stop()
    back = threading.Timer(seconds, redis_server.start)
    back.start()
    try:
        yield
    finally:
        back.join()


@pytest.mark.parametrize("middleware, stored", [(None, 1), ([dramatiq.middleware.Retries()], 0)],
                         ids=["durable-retries", "dramatiq-retries"])
def test_a_retry_enqueued_while_redis_is_down_is_stored_before_its_message_is_acknowledged(middleware, stored,
                                                                                          redis_server):
    broker = RecoveringRedisBroker(url=redis_server.url, middleware=middleware,
                                   namespace=f"test-{uuid.uuid4().hex[:8]}")
    try:
        actor = dramatiq.actor(lambda: None, actor_name=f"noop_{uuid.uuid4().hex[:6]}", queue_name="work",
                               broker=broker, max_retries=3, min_backoff=60_000)
        message = dramatiq.broker.MessageProxy(Message.decode(broker.enqueue(actor.message()).encode()))
        with redis_down_for(redis_server, 2):  # dramatiq acknowledges the message once this returns
            broker.emit_after("process_message", message, exception=RuntimeError("the attempt failed"))
        assert broker.client.hlen(f"{broker.namespace}:work.DQ.msgs") == stored, "its retry is stored"
    finally:
        broker.flush_all()
        broker.close()


def test_a_broker_command_redis_does_not_answer_is_a_connection_error_to_dramatiq_and_to_redis_callers(redis_server):
    client = redis.Redis.from_url(redis_server.url, socket_timeout=0.3)
    broker = RecoveringRedisBroker(client=client, namespace=f"test-{uuid.uuid4().hex[:8]}")
    try:
        with redis_frozen_for(redis_server, 1), pytest.raises(RedisUnreachable) as raised:
            broker.do_fetch("work", 1)
        assert isinstance(raised.value, dramatiq.errors.BrokerConnectionError), "dramatiq restarts the consumer"
        assert isinstance(raised.value, redis.ConnectionError), "callers catching Redis errors still catch it"
    finally:
        broker.flush_all()
        broker.close()
