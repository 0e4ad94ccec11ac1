"""One drill in full: outcome, error with its hint, every finding, timings, the signature."""

import pandas as pd
import streamlit as st

from dashboard import session
from dashboard.session import NotVisible, t
from drills.fleet import certifiable

session.require_role("operator", "admin")
site_id = session.visible_site(st.query_params.get("site"), fallback_first=False)
try:
    sequence = int(st.query_params.get("drill", ""))
    report, data, signature = session.fleet().report(session.scope(), site_id, sequence)
except (ValueError, NotVisible):
    st.info(t("not_found"))
    st.stop()
session.audit_once("report.viewed", site=site_id, sequence=sequence)

st.markdown(f"## {report['site_name']} · #{sequence} · {report['outcome'].upper()}")
st.caption(f"{report['drill_id']} · {report['started_at']} · {report.get('host', '')}")
if report["outcome"] != "pass":
    st.error(f"**{report['reason']}** — {report['message']}")
    if report.get("hint"):
        st.info(f"{t('drill.hint')} : {report['hint']}")
st.write(f"**{t('drill.signature')}** : {signature}")

st.subheader(t("drill.timings"))
st.dataframe(pd.DataFrame([{**report["phases"], "rto": report["rto_seconds"]}]), hide_index=True)
st.subheader(t("drill.findings"))
st.dataframe(pd.DataFrame(report["findings"]).astype(str), hide_index=True, width="stretch")
session.report_buttons(site_id, sequence, data)
if certifiable(report):
    session.certificate_button(site_id, sequence)
