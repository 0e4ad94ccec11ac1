"""The status page a pharmacist reads: one big status, in words and icon, and three facts."""

import streamlit as st

from dashboard import session
from dashboard.texts import STATUS_COLOUR, day, duration, hosting_line, status_label
from dashboard.session import t
from drills.fleet import certifiable
from drills import site_words, reasons

user = session.require_role("viewer", "operator", "admin")
lang = session.language()
allowed = sorted(session.scope())
if not allowed:
    st.info(t("no_sites"))
    st.stop()

site_id = session.visible_site(st.query_params.get("site"))
if len(allowed) > 1:
    site_id = st.selectbox(t("choose_site"), allowed, index=allowed.index(site_id),
                           format_func=lambda sid: session.fleet().sites[sid].name)
    site_id = session.visible_site(site_id)
status = session.fleet().status(session.scope(), site_id)
session.audit_once("status.viewed", site=site_id)

last, last_pass = status.last, status.last_pass
if status.status == "green":
    headline, meaning = t("status.green", date=day(last["backup_taken_at"] or last["started_at"], lang)), \
        t("status.green.meaning")
elif status.status == "red" and status.why.startswith(reasons.ATTENTION):  # restored: a check the site fails on
    headline = t(f"status.amber.{status.why}", date=day(last["backup_taken_at"] or last["started_at"], lang))
    meaning = t("status.red.attention")
elif status.status == "red":
    headline = t("status.red", date=day(last["backup_taken_at"] or last["started_at"], lang))
    meaning = f"{site_words.meaning(last['reason'], lang)} {t('status.red.meaning')}"
elif status.status == "amber":
    if status.why == reasons.RTO_SLOW:
        headline = t("status.amber.rto.slow", rto=duration(last["rto_seconds"], lang),
                     target=duration(status.rto_target, lang))
    elif status.why == reasons.PROOF_OLD:
        headline = t("status.amber.proof.old", date=day(last_pass["started_at"], lang))
    elif status.why == reasons.CONTENTS_UNVERIFIED:
        headline = t("status.amber.contents.unverified", date=day(last["backup_taken_at"] or last["started_at"], lang))
    elif status.why.startswith(reasons.ATTENTION):
        headline = t(f"status.amber.{status.why}", date=day(last["backup_taken_at"] or last["started_at"], lang))
    else:
        headline = t("status.amber.error")
    meaning = ""
else:
    headline, meaning = t("status.never"), ""

colour = STATUS_COLOUR[status.status]
st.markdown(f"<div style='border-left: 12px solid {colour}; padding: 0.8em 1em; background: {colour}14; "
            f"border-radius: 6px'><p style='font-size: 2em; margin: 0; color: {colour}; font-weight: 700'>"
            f"{status_label(status.status, lang, status.why)}</p>"
            f"<p style='font-size: 1.3em; margin: 0.3em 0 0 0'>{headline}</p></div>", unsafe_allow_html=True)
st.caption(status.name)
if meaning:
    st.write(meaning)
if last and hosting_line(last.get("hosting"), lang):
    st.info(session.markdown_text(hosting_line(last["hosting"], lang)))
if status.status in ("red", "amber", "never"):
    tenant = session.fleet().catalog.tenants.get(status.tenant)
    st.warning(t("status.call", contact=(tenant.contact if tenant and tenant.contact else
                                         t("status.call.default"))))

proven, restore_time, backup_age = st.columns(3)
proven.metric(t("status.last_proven"), day(last_pass["started_at"], lang) if last_pass else t("status.never_proven"))
restore_time.metric(t("status.restore_time"), duration(last_pass["rto_seconds"] if last_pass else None, lang),
                    help=t("status.target", target=duration(status.rto_target, lang)))
restore_time.caption(t("status.target", target=duration(status.rto_target, lang)))
backup_age.metric(t("status.backup_age"), duration(status.backup_age_seconds, lang))
backup_age.caption(t("status.target", target=duration(status.rpo_target, lang)))

if last_pass and certifiable(last_pass):
    session.certificate_button(site_id, last_pass["sequence"])
