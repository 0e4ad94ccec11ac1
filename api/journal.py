"""Every request to the API goes to the audit journal (drills.audit): who (the token's id,
`token:t-…` or `badge:b-…`, never the token), the method, the route as declared (a badge's
token stays `{token}`), the site, the HTTP status. The health probe alone is left out.

Requests that no valid token made are journaled up to UNAUTHENTICATED_PER_MINUTE a minute (a
server error always); the rest are counted and the count journaled once the minute is over (`api.requests_not_journaled`,
with the next line written): a stranger's flood cannot fill the audit volume line by line."""

import threading
import time

from starlette.concurrency import run_in_threadpool

UNROUTED = "(no route)"  # a path no route serves: its text is not journaled (it could hold anything)
NOT_JOURNALED = {"/healthz"}
UNAUTHENTICATED_PER_MINUTE = 60


class Allowance:
    """How many requests without a valid token are journaled a minute, and how many were not."""

    def __init__(self, per_minute: int = UNAUTHENTICATED_PER_MINUTE, clock=time.monotonic):
        self.per_minute, self.clock, self.lock = per_minute, clock, threading.Lock()
        self.minute, self.used, self.dropped, self.unsaid = None, 0, 0, 0

    def take(self) -> bool:
        """Whether this request is journaled; if not, it is counted."""
        with self.lock:
            self.roll()
            if self.used < self.per_minute:
                self.used += 1
                return True
            self.dropped += 1
            return False

    def unsaid_count(self) -> int:
        """The requests left out in the minutes now over, not yet journaled as a count (then zero)."""
        with self.lock:
            self.roll()
            count, self.unsaid = self.unsaid, 0
            return count

    def roll(self) -> None:
        minute = int(self.clock() // 60)
        if minute != self.minute:
            self.minute, self.used, self.dropped, self.unsaid = minute, 0, 0, self.unsaid + self.dropped


class Journaled:
    """ASGI middleware: a request's journal line is written as its answer starts (an error too, as 500)."""

    def __init__(self, app, journal, allowance: Allowance | None = None):
        self.app, self.journal, self.allowance = app, journal, allowance or Allowance()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] in NOT_JOURNALED:
            return await self.app(scope, receive, send)
        state = scope.setdefault("state", {})  # the routes' request.state: who called, which site
        journaled = False

        async def journal(status: int) -> None:
            nonlocal journaled
            journaled = True
            user = state.get("user")
            if user is None and status < 500 and not self.allowance.take():  # our own failures always
                return
            if unsaid := self.allowance.unsaid_count():
                await run_in_threadpool(self.journal().record, "api.requests_not_journaled", None, count=unsaid,
                                        per_minute=self.allowance.per_minute)
            route = getattr(scope.get("route"), "path", None) or UNROUTED
            site = state.get("site") or scope.get("path_params", {}).get("site_id")
            await run_in_threadpool(self.journal().record, "api.request", user, method=scope["method"],
                                    route=route, **({"site": site} if site else {}), status=status)

        async def sending(message):
            if message["type"] == "http.response.start":
                await journal(message["status"])  # before the client has its answer
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if not journaled:  # an error no handler answered: the server answers 500
                await journal(500)
