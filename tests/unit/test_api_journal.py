"""The API's journal middleware (api.journal) driven as ASGI, its journal recorded: a flood of
requests without a valid token is counted, not journaled line by line."""

import asyncio

from api.journal import Allowance, Journaled


class Recorded:
    def __init__(self):
        self.lines = []

    def record(self, event, user, **details):
        self.lines.append((event, user, details))


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def answered(status: int, user: str | None):
    async def app(scope, receive, send):
        scope["state"]["user"] = user
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})
    return app


def call(middleware, path="/v1/sites"):
    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        pass

    asyncio.run(middleware({"type": "http", "method": "GET", "path": path, "path_params": {}}, receive, send))


def test_strangers_are_journaled_up_to_the_allowance_then_counted_once_the_minute_is_over():
    journal, clock = Recorded(), Clock()
    allowance = Allowance(per_minute=3, clock=clock)
    stranger = Journaled(answered(401, None), journal=lambda: journal, allowance=allowance)
    for _ in range(10):
        call(stranger)
    assert [(event, details["status"]) for event, _, details in journal.lines] == [("api.request", 401)] * 3
    clock.now += 60
    known = Journaled(answered(200, "token:t-1"), journal=lambda: journal, allowance=allowance)
    call(known)
    assert journal.lines[3] == ("api.requests_not_journaled", None, {"count": 7, "per_minute": 3})
    assert journal.lines[4][:2] == ("api.request", "token:t-1") and len(journal.lines) == 5


def test_a_caller_with_a_valid_token_is_always_journaled():
    journal = Recorded()
    known = Journaled(answered(200, "token:t-1"), journal=lambda: journal, allowance=Allowance(per_minute=0))
    for _ in range(5):
        call(known)
    assert [user for _, user, _ in journal.lines] == ["token:t-1"] * 5
