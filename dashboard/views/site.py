"""A site's page: RTO history with its target, phases per drill, backup age against the RPO,
recent failures, signed reports to download, and a drill on demand."""

from datetime import datetime, timezone

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import session
from dashboard.texts import STATUS_COLOUR, duration, hosting_rows, status_label, why_words
from dashboard.session import t
from drills.fleet import certifiable
from drills.redaction import printable
from drills import reasons
from drills.reports.report import new_drill_id

DATE_AXIS = alt.Axis(format="%d/%m %H:%M")
user = session.require_role("operator", "admin")
lang = session.language()
site_id = session.visible_site(st.query_params.get("site"))
if site_id is None:
    st.info(t("no_sites"))
    st.stop()
fleet, scope = session.fleet(), session.scope()
status = fleet.status(scope, site_id)
history = fleet.history(scope, site_id)
session.audit_once("site.viewed", site=site_id)

st.markdown(f"## {status.name}  <span style='color: {STATUS_COLOUR[status.status]}'>"
            f"{status_label(status.status, lang, status.why)}</span>", unsafe_allow_html=True)
if why_words(status.why, lang):
    st.warning(why_words(status.why, lang))
st.caption(f"{site_id} · {status.tenant}")
session.refresh_while_drilling([site_id])
hosting = hosting_rows(status.last.get("hosting") if status.last else None, lang)
st.caption(f"{t('hosting.heading')} · " + (" · ".join(map(session.markdown_text, hosting)) if hosting
                                          else t("hosting.undeclared")))


NEWEST, OTHER = "", "\0other"  # the choices of "drill now" besides a backup drilled before


def send(kind: str, id_name: str, request, **details) -> None:
    """Ask the workers (`request(site, id)` sends the message), journal it and say so."""
    request_id = new_drill_id(datetime.now(timezone.utc))
    try:
        request(fleet.site(scope, site_id), request_id)
    except Exception as error:  # the broker's own errors: Redis down, refused, timed out
        st.error(t("drill_now.failed", error=type(error).__name__))
        return
    session.journal().record(f"{kind}.requested", user.name, site=site_id, **{id_name: request_id}, **details)
    st.success(t(f"{kind}.sent", request_id=request_id))


def drill_now(backup_name: str | None) -> None:
    from workers.actors import enqueue  # only here: the dashboard reaches workers/ to enqueue, nothing else

    send("drill", "drill_id", lambda site, drill_id: enqueue(site, drill_id, now=True, backup_name=backup_name),
         **({"backup": backup_name} if backup_name else {}))


def find_restorable() -> None:
    from workers.actors import enqueue_finder

    send("finder", "request_id", enqueue_finder)


def minute(moment: str) -> str:
    return moment[:16].replace("T", " ")


chosen = st.selectbox(t("drill_now.backup"), [NEWEST, *fleet.backup_names(scope, site_id)[:50], OTHER],
                      placeholder=t("choose"),
                      format_func=lambda name: t("drill_now.newest") if name == NEWEST else
                      t("drill_now.other") if name == OTHER else printable(name))
typed = st.text_input(t("drill_now.name"), max_chars=1024).strip() if chosen == OTHER else ""
if st.button(t("drill_now"), type="primary"):
    if chosen == OTHER and not typed:
        st.error(t("drill_now.name_missing"))
    else:
        drill_now(typed or chosen or None)

if status.status in ("amber", "red") and status.why.startswith(reasons.ATTENTION):  # the figures to look at
    last, _, _ = fleet.report(scope, site_id, status.last["sequence"])
    for finding in last["findings"]:
        if finding["status"] in ("warn", "fail") and finding.get("code", "").startswith(reasons.ATTENTION):
            shown = st.warning if finding["status"] == "warn" else st.error
            shown(f"**{finding['code']}** — {session.markdown_text(finding['message'])}")

answer = fleet.recovery_point(scope, site_id)
if answer or status.status == "red":
    st.subheader(t("finder.title"))
if answer:
    document, valid = answer
    found, at = document["found"], minute(document["at"])
    if found:
        st.info(t("finder.found", at=at, backup=session.markdown_text(found["backup"]), taken=minute(found["taken_at"]),
                  loss=duration(found["data_loss_seconds"], lang)))
    elif document["stopped_by"]:
        st.warning(t("finder.stopped", at=at, reason=document["stopped_by"]))
    else:
        st.error(t("finder.none", at=at, tried=len(document["tried"])))
    if not valid:
        st.error(t("finder.invalid"))
    if document["tried"]:
        st.dataframe(pd.DataFrame(document["tried"]).reindex(columns=["backup", "outcome", "reason", "attention",
                                                                      "reused", "drill_id"]),
                     hide_index=True, width="stretch")
if status.status == "red" and st.button(t("finder.run")):
    find_restorable()

if not history:
    st.info(t("site.no_drill"))
    st.stop()

drills = pd.DataFrame(history)
drills["started_at"] = pd.to_datetime(drills["started_at"], utc=True, format="ISO8601")
target = alt.Chart(pd.DataFrame({"target": [status.rto_target]})).mark_rule(color="#b3261e", strokeDash=[6, 4]) \
    .encode(y="target:Q")
rto = alt.Chart(drills.dropna(subset=["rto_seconds"])).mark_line(point=True).encode(
    x=alt.X("started_at:T", title=None, axis=DATE_AXIS), y=alt.Y("rto_seconds:Q", title="RTO (s)"),
    tooltip=["started_at:T", "rto_seconds:Q", "drill_id:N"])
st.subheader(t("site.rto_chart"))
st.altair_chart(rto + target, width="stretch")

left, right = st.columns(2)
recent = drills.tail(30)
phases = pd.DataFrame([{"drill": row.sequence, "phase": phase, "seconds": seconds}
                       for row in recent.itertuples() for phase, seconds in row.phases.items()
                       if phase in ("fetch", "decrypt", "restore", "verify")])
left.subheader(t("site.phases_chart"))
if not phases.empty:
    left.altair_chart(alt.Chart(phases).mark_bar().encode(
        x=alt.X("drill:O", title="#"), y=alt.Y("seconds:Q", title="s"), color="phase:N",
        tooltip=["drill", "phase", "seconds"]), width="stretch")
ages = drills.dropna(subset=["backup_age_seconds"]).assign(hours=lambda d: d["backup_age_seconds"] / 3600)
rpo = alt.Chart(pd.DataFrame({"rpo": [status.rpo_target / 3600]})).mark_rule(color="#b3261e", strokeDash=[6, 4]) \
    .encode(y="rpo:Q")
right.subheader(t("site.age_chart"))
right.altair_chart(alt.Chart(ages).mark_line(point=True).encode(
    x=alt.X("started_at:T", title=None, axis=DATE_AXIS), y=alt.Y("hours:Q", title="h")) + rpo, width="stretch")

st.subheader(t("site.findings"))
failures = drills[drills["outcome"] != "pass"].tail(20).iloc[::-1]
st.dataframe(failures[["sequence", "started_at", "outcome", "reason", "message"]], hide_index=True,
             width="stretch")

st.subheader(t("site.downloads"))
choices = list(drills["sequence"].iloc[::-1].head(100))
sequence = st.selectbox(t("site.choose_drill"), choices, placeholder=t("choose"),
                        format_func=lambda seq: next(f"#{h['sequence']} · {h['started_at'][:16]} · {h['outcome']}"
                                                     for h in history if h["sequence"] == seq))
report, data, _ = fleet.report(scope, site_id, int(sequence))
session.report_buttons(site_id, int(sequence), data)
if certifiable(report):
    session.certificate_button(site_id, int(sequence))
if st.button(t("site.open_drill")):
    st.switch_page("views/drill.py", query_params={"site": site_id, "drill": str(int(sequence))})
