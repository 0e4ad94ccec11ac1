"""Heartbeat pings: after each passing drill of a site's newest backup, an HTTP GET to the site's
`heartbeat` URL (healthchecks.io, Uptime Kuma's push monitor, any URL that counts pings), so the
monitoring the IT provider already runs raises its own alarm when the pings stop: a site that
fails, or that nothing drills any more, is silent.

Nothing is sent after a fail or an error (no healthchecks "/fail" suffix: Uptime Kuma and others
have no such URL, and a red drill is alerted through apprise already). A ping never blocks nor
fails the drill: it runs on a thread of its own with a short timeout, and what goes wrong is
logged with the site and the URL's host only: a ping URL's path is its secret.
"""

import logging
import os
import threading
import urllib.request
from urllib.parse import urlsplit

PING_TIMEOUT_SECONDS = 10
log = logging.getLogger("restore_drill.heartbeat")


def url_of(site) -> str | None:
    """The site's heartbeat URL: `heartbeat` from the catalog, else the variable `heartbeat_env` names."""
    if site.heartbeat or not site.heartbeat_env:
        return site.heartbeat
    return os.environ.get(site.heartbeat_env) or None


def ping(site) -> threading.Thread | None:
    """Ping the site's heartbeat URL, if it has one, on a thread of its own (returned, for tests)."""
    url = url_of(site)
    if url is None:
        return None
    thread = threading.Thread(target=send, args=(site.id, url), name=f"heartbeat-{site.id}", daemon=True)
    thread.start()
    return thread


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """A ping goes to the URL the catalog names, nowhere else: a redirect is a failed ping (an
    answer may not send the worker to another host, an internal one, or from https to http)."""

    def redirect_request(self, *_):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def send(site_id: str, url: str) -> bool:
    """GET `url`: a 2xx answer is a ping (its body is not read); anything else is logged."""
    host = None
    try:
        parts = urlsplit(url)
        host = parts.hostname
        if parts.scheme not in ("http", "https"):
            log.error("heartbeat URL is not http(s): not pinged", extra={"site": site_id})
            return False
        OPENER.open(urllib.request.Request(url, method="GET"), timeout=PING_TIMEOUT_SECONDS).close()
    except (OSError, ValueError) as error:  # URLError, HTTPError, timeouts: never the URL itself in the log
        log.warning("heartbeat ping failed", extra={"site": site_id, "host": host, "error": type(error).__name__})
        return False
    return True
