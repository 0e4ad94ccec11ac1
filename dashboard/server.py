"""The dashboard's server, as `drill dashboard` runs it: Streamlit's app (app.py) and one route
of ours, where the page trades a sign-in's ticket for the session cookie (dashboard.cookies)."""

from pathlib import Path

import streamlit as st
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dashboard import cookies


async def open_session(request: Request) -> Response:
    """POST the ticket (the body, as text): 204 with the cookie, else 403 and nothing set."""
    ticket = (await request.body())[:cookies.TOKEN_MAX_CHARS].decode(errors="replace")
    value = cookies.STORE.redeem(ticket) if cookies.same_origin(request.headers.get("origin"),
                                                                 request.headers.get("host")) else None
    if value is None:
        return Response(status_code=403)
    response = Response(status_code=204)
    response.set_cookie(cookies.COOKIE, value, max_age=cookies.LIFETIME_SECONDS, path="/", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")
    return response


app = st.App(str(Path(__file__).with_name("app.py")),
             routes=[Route(cookies.OPEN_PATH, open_session, methods=["POST"])])
