"""What every page shares: the configuration, the signed-in user and their scope, the audit
journal, the language. Pages hold no rule about who sees what: they ask `visible_site`, and
the data access (drills.fleet) refuses anything outside the user's scope.

Configuration (set by `drill dashboard`): DRILL_CATALOG and DRILL_USERS, the paths of the
catalog and of the users file.
"""

import json
import os
import re

import redis
import streamlit as st

from dashboard import cookies
from dashboard.texts import LANGUAGES, text
from drills import access, signin
from drills.audit import AuditJournal
from drills.errors import DrillError
from drills.catalog import CatalogFile
from drills.fleet import Fleet, NotVisible
from drills.reports.signing import read_signature

REFRESH_SECONDS = 5  # how often a page showing a site with a drill queued or running reruns
USER_KEY, LANGUAGE_KEY, SEEN_KEY = "_signed_in_user", "_language", "_audited_views"
TICKED_KEY, SESSION_KEY, TICKET_KEY = "_refresh_ticked", "_session_id", "_session_ticket"
COMPLIANCE_KEY = "_compliance_report"  # ((tenant, month, language), (file name, PDF)) made on request


@st.cache_resource
def catalog_file(path: str) -> CatalogFile:
    return CatalogFile(path)


@st.cache_resource
def fleet_of(path: str, loaded_at: int) -> Fleet:
    """One Fleet (and its per-site cache) per version of the catalog."""
    return Fleet(catalog_file(path).current())


def fleet() -> Fleet:
    file = catalog_file(os.environ["DRILL_CATALOG"])
    file.current()
    return fleet_of(str(file.path), file.mtime)


def users() -> dict[str, access.User]:
    return access.load_users(os.environ["DRILL_USERS"])


def journal() -> AuditJournal:
    return AuditJournal(fleet().catalog.evidence)


def language() -> str:
    return st.session_state.get(LANGUAGE_KEY, "fr")


def t(key: str, **values) -> str:
    return text(key, language(), **values)


def current_user() -> access.User | None:
    """The signed-in user, looked up again on every run: a user removed from the file is out.
    A new page load (a reload, a new tab) is signed in by its session cookie (dashboard.cookies)."""
    if USER_KEY not in st.session_state and (resumed := cookies.STORE.resume(st.context.cookies.get(cookies.COOKIE))):
        st.session_state[SESSION_KEY], st.session_state[USER_KEY] = resumed
    name = st.session_state.get(USER_KEY)
    return users().get(name) if name else None


def hand_over_cookie() -> None:
    """Once after a password sign-in: the page trades its ticket for the HttpOnly session cookie
    at the server's route (dashboard/server.py). Under AppTest, or `streamlit run app.py`, there
    is no such route: the sign-in then lasts as long as the page."""
    ticket = st.session_state.pop(TICKET_KEY, None)
    if ticket:
        path = "/" + "/".join(filter(None, [st.get_option("server.baseUrlPath").strip("/"),
                                            cookies.OPEN_PATH.strip("/")]))
        st.html(f"<script>fetch({json.dumps(path)}, {{method: 'POST', body: {json.dumps(ticket)}, "
                "credentials: 'same-origin'})</script>", unsafe_allow_javascript=True)


def scope() -> frozenset[str]:
    user = current_user()
    return user.scope(fleet().catalog) if user else frozenset()


@st.cache_resource
def sign_in_limiter() -> signin.SignInLimiter:
    """One per process, shared by every session: a new browser tab does not start the count again."""
    return signin.SignInLimiter()


def client_address() -> str | None:
    """The client's IP address as Streamlit saw it: None on loopback (see drills.signin), and
    when there is no browser behind the session (AppTest)."""
    address = st.context.ip_address
    return address if isinstance(address, str) else None


def sign_in(name: str, password: str) -> signin.Attempt:
    attempt = signin.sign_in(users(), name, password, client_address(), sign_in_limiter(), journal())
    if attempt.user:
        st.session_state[USER_KEY] = attempt.user.name
        st.session_state[SESSION_KEY], st.session_state[TICKET_KEY] = cookies.STORE.begin(attempt.user.name)
    return attempt


def oidc_signed_in() -> bool:
    return bool(getattr(st.user, "is_logged_in", False))


def sign_in_oidc() -> bool:
    """A user signed in through st.login, matched to the users file by e-mail address."""
    email = getattr(st.user, "email", None) if oidc_signed_in() else None
    user = access.user_by_email(users(), email)
    if email and not st.session_state.get(USER_KEY):
        journal().record("login.succeeded" if user else "login.refused", email, method="oidc")
    if user:
        st.session_state[USER_KEY] = user.name
    return user is not None


def sign_out() -> None:
    """Forget the session's user. Someone signed in through OpenID Connect is signed out of
    Streamlit's identity cookie too (and of the provider, if it offers an end-session
    endpoint): else the next run would sign them straight back in."""
    oidc = oidc_signed_in()
    journal().record("logout", st.session_state.get(USER_KEY), **({"method": "oidc"} if oidc else {}))
    cookies.STORE.end(st.session_state.get(SESSION_KEY))  # the cookie, even kept or copied, opens nothing now
    st.session_state.clear()
    if oidc:
        st.logout()


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


def require_role(*roles: str) -> access.User:
    """The user, if their role may open this page; the page stops otherwise."""
    user = current_user()
    if user is None or user.role not in roles:
        st.info(t("not_found"))
        st.stop()
    return user


def visible_site(requested: str | None, fallback_first: bool = True) -> str | None:
    """The site a page shows: the one asked for (query parameter or widget) if the user may see
    it, else their first site; never one outside their scope."""
    allowed = scope()
    if requested in allowed:
        return requested
    if requested:
        journal().record("access.denied", st.session_state.get(USER_KEY), site=str(requested)[:80])
    return sorted(allowed)[0] if allowed and fallback_first else None


def audit_once(event: str, **details) -> None:
    """Record a view once per session and subject (a page reruns on every click)."""
    seen = st.session_state.setdefault(SEEN_KEY, set())
    key = (event, tuple(sorted(details.items())))
    if key not in seen:
        journal().record(event, st.session_state.get(USER_KEY), **details)
        seen.add(key)


def report_buttons(site_id: str, sequence: int, data: bytes) -> None:
    """Downloads of a signed report (`data`) and of its detached signature, each journaled."""
    path = fleet().report_path(scope(), site_id, sequence)
    name, signature = path.name, read_signature(path)  # the stored name: the recipes read the sequence in it
    files = [(t("site.download"), data, name, "application/json", "report.downloaded")]
    if signature is not None:  # format 1 reports embed theirs
        files.append((t("site.download_signature"), signature, name + ".sig", "application/octet-stream",
                      "signature.downloaded"))
    for label, content, name, kind, event in files:
        st.download_button(label, content, file_name=name, mime=kind, on_click=journal().record,
                           args=(event, st.session_state.get(USER_KEY)), kwargs={"site": site_id, "sequence": sequence})


def certificate_button(site_id: str, sequence: int) -> None:
    """Download of the reversibility certificate (PDF, in the page's language) of a passed drill;
    each download is journaled."""
    name, pdf = fleet().certificate(scope(), site_id, sequence, language())
    st.download_button(t("certificate.download"), pdf, file_name=name, mime="application/pdf",
                       on_click=journal().record, args=("certificate.downloaded", st.session_state.get(USER_KEY)),
                       kwargs={"site": site_id, "sequence": sequence})


def compliance_button(tenant: str, month: str) -> None:
    """Download of a tenant's compliance report of `month` (PDF, in the page's language), made
    when asked (it reads and verifies every report of the month: not on every rerun of the page);
    each download is journaled."""
    wanted = (tenant, month, language())
    if st.button(t("compliance.prepare")):
        st.session_state[COMPLIANCE_KEY] = (wanted, fleet().compliance(scope(), tenant, month, language()))
    made, (name, pdf) = st.session_state.get(COMPLIANCE_KEY, (None, (None, None)))
    if made == wanted:
        st.download_button(t("compliance.download"), pdf, file_name=name, mime="application/pdf",
                           on_click=journal().record, args=("compliance.downloaded", st.session_state.get(USER_KEY)),
                           kwargs={"tenant": tenant, "month": month})


def sites_in_flight() -> set[str]:
    """The sites with a drill queued or running (the workers' pending drills); none when the
    broker cannot be read (no Redis: drills then run in the foreground, nothing to wait for)."""
    try:
        from workers import broker, pending  # what enqueue wrote down; its settings are read on import

        return pending.sites(broker.redis_client())
    except (redis.RedisError, DrillError, OSError):
        return set()


def refresh_while_drilling(site_ids) -> None:
    """While a drill of one of `site_ids` (the sites the page shows) is queued or running, say so
    and rerun the whole page every REFRESH_SECONDS, so its new report shows without a click; the
    timer ends with the rerun that finds no drill left."""
    if not sites_in_flight() & set(site_ids):
        return
    st.caption(t("refresh.drilling", seconds=REFRESH_SECONDS))

    @st.fragment(run_every=REFRESH_SECONDS)
    def tick() -> None:
        if st.session_state.get(TICKED_KEY):
            st.rerun()
        st.session_state[TICKED_KEY] = True  # the first run is the page's own: no rerun then

    st.session_state[TICKED_KEY] = False
    tick()


MARKDOWN = re.compile(r"([\\`*_\[\]()#!|<>~$])")  # links, images, emphasis, code, HTML, tables, LaTeX


def markdown_text(text: str) -> str:
    """`text` (a name read from a backup, in a message) shown as itself in Streamlit's markdown:
    no link, image or emphasis it could make."""
    return MARKDOWN.sub(r"\\\1", str(text))


def language_picker() -> None:
    chosen = st.sidebar.radio(t("language"), LANGUAGES, index=LANGUAGES.index(language()), horizontal=True,
                              format_func=lambda code: {"fr": "Français", "en": "English"}[code])
    if chosen != language():
        st.session_state[LANGUAGE_KEY] = chosen
        st.rerun()


__all__ = ["NotVisible", "fleet", "t"]
