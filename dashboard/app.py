"""Restore Drill's dashboard: `drill dashboard` runs it (streamlit run, on loopback).

Nobody gets past the sign-in. Viewers (pharmacists) get their status page; operators the
fleet board, site and drill pages of their tenants; admins everything and the audit journal.
"""

import math

import streamlit as st

from dashboard import session
from dashboard.session import t
from dashboard.texts import duration
from drills.access import NAME_MAX_CHARS

st.set_page_config(page_title="Restore Drill", page_icon="🛟", layout="wide")
st.html("<style>[data-testid='InputInstructions'] {display: none}</style>")  # "Press Enter to…", English only
session.language_picker()

PAGES = {
    "status": st.Page("views/status.py", title=t("page.status"), icon="🛟", url_path="status"),
    "fleet": st.Page("views/fleet.py", title=t("page.fleet"), icon="🗂️", url_path="fleet"),
    "site": st.Page("views/site.py", title=t("page.site"), icon="📈", url_path="site"),
    "drill": st.Page("views/drill.py", title=t("page.drill"), icon="🔎", url_path="drill"),
    "audit": st.Page("views/audit.py", title=t("page.audit"), icon="📜", url_path="audit"),
}
BY_ROLE = {"viewer": ["status"], "operator": ["fleet", "status", "site", "drill"],
           "admin": ["fleet", "status", "site", "drill", "audit"]}


def sign_in_page() -> None:
    st.title(t("app.title"))
    if session.oidc_configured():
        if session.sign_in_oidc():
            st.rerun()
        if st.button(t("login.oidc")):
            st.login()
        if session.oidc_signed_in():
            st.error(t("login.oidc_unknown"))
            if st.button(t("logout")):
                session.sign_out()
                st.rerun()
    with st.form("sign-in"):
        st.subheader(t("login.title"))
        name = st.text_input(t("login.name"), max_chars=NAME_MAX_CHARS)
        password = st.text_input(t("login.password"), type="password")
        if st.form_submit_button(t("login.submit")):
            attempt = session.sign_in(name, password)
            if attempt.user:
                st.rerun()
            if attempt.wait_seconds:
                st.error(t("login.wait", wait=duration(math.ceil(attempt.wait_seconds), session.language())))
            else:
                st.error(t("login.refused"))


user = session.current_user()
if user is None:
    st.navigation([st.Page(sign_in_page, title=t("login.title"), url_path="sign-in")], position="hidden").run()
else:
    session.hand_over_cookie()
    st.sidebar.caption(t("signed_in_as", name=user.name, role=user.role))
    if st.sidebar.button(t("logout")):
        session.sign_out()
        st.rerun()
    st.navigation([PAGES[name] for name in BY_ROLE[user.role]]).run()
