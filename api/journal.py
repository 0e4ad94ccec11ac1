"""Every request to the API goes to the audit journal (drills.audit): who (the token's id,
`token:t-…` or `badge:b-…`, never the token), the method, the route as declared (a badge's
token stays `{token}`), the site, the HTTP status. The health probe alone is left out."""

from starlette.concurrency import run_in_threadpool

UNROUTED = "(no route)"  # a path no route serves: its text is not journaled (it could hold anything)
NOT_JOURNALED = {"/healthz"}


class Journaled:
    """ASGI middleware: a request's journal line is written as its answer starts (an error too, as 500)."""

    def __init__(self, app, journal):
        self.app, self.journal = app, journal

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] in NOT_JOURNALED:
            return await self.app(scope, receive, send)
        state = scope.setdefault("state", {})  # the routes' request.state: who called, which site
        journaled = False

        async def journal(status: int) -> None:
            nonlocal journaled
            journaled = True
            route = getattr(scope.get("route"), "path", None) or UNROUTED
            site = state.get("site") or scope.get("path_params", {}).get("site_id")
            await run_in_threadpool(self.journal().record, "api.request", state.get("user"), method=scope["method"],
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
