"""The dashboard's server, as `drill dashboard` runs it: Streamlit's app (app.py) and one route
of ours, where the page trades a sign-in's ticket for the session cookie (dashboard.cookies)."""

from pathlib import Path

import streamlit as st
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dashboard import cookies


async def open_session(request: Request) -> Response:
    """POST the ticket (the body, as text): 204 with the cookie, else 403 and nothing set. The origin
    is checked before the body is read, and no more of the body than a ticket is ever held."""
    if not cookies.same_origin(request.headers.get("origin"), request.headers.get("host")):
        return Response(status_code=403)
    value = cookies.STORE.redeem(await ticket_of(request))
    if value is None:
        return Response(status_code=403)
    response = Response(status_code=204)
    response.set_cookie(cookies.COOKIE, value, max_age=cookies.LIFETIME_SECONDS, path="/", httponly=True,
                        samesite="strict", secure=behind_https(request))
    return response


async def ticket_of(request: Request) -> str:
    """The body's first TOKEN_MAX_CHARS bytes, read no further (an unauthenticated caller may send GBs)."""
    body = b""
    async for chunk in request.stream():
        body += chunk[:cookies.TOKEN_MAX_CHARS + 1 - len(body)]
        if len(body) > cookies.TOKEN_MAX_CHARS:
            return ""  # longer than any ticket
    return body.decode(errors="replace")


def behind_https(request: Request) -> bool:
    """Whether the browser speaks HTTPS: directly, or to the TLS proxy in front (its X-Forwarded-Proto)."""
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


app = st.App(str(Path(__file__).with_name("app.py")),
             routes=[Route(cookies.OPEN_PATH, open_session, methods=["POST"])])
