"""The fleet board: one row per site of the operator's tenants, red and never-drilled first."""

from datetime import datetime, timezone

import pandas as pd
import streamlit as st

from dashboard import session
from dashboard.texts import STATUS_LABEL, status_label, why_label
from dashboard.session import t

session.require_role("operator", "admin")
lang = session.language()
statuses = session.fleet().statuses(session.scope())
ORDER = {"red": 0, "never": 1, "amber": 2, "green": 3}

status_filter, tenant_filter, reason_filter = st.columns(3)
wanted_status = status_filter.multiselect(t("fleet.filter.status"), list(STATUS_LABEL), placeholder=t("choose"),
                                          format_func=lambda code: status_label(code, lang))
wanted_tenant = tenant_filter.multiselect(t("fleet.filter.tenant"), sorted({s.tenant for s in statuses}),
                                          placeholder=t("choose"))
wanted_reason = reason_filter.multiselect(t("fleet.filter.reason"),
                                          sorted({s.why for s in statuses if s.status in ("red", "amber")}),
                                          placeholder=t("choose"), format_func=lambda why: why_label(why, lang))
shown = [s for s in statuses
         if (not wanted_status or s.status in wanted_status) and (not wanted_tenant or s.tenant in wanted_tenant)
         and (not wanted_reason or s.why in wanted_reason)]
shown.sort(key=lambda s: (ORDER[s.status], s.name))

session.refresh_while_drilling(s.site_id for s in shown)
st.caption(t("fleet.count", shown=len(shown), total=len(statuses), red=sum(s.status == "red" for s in statuses),
             never=sum(s.status == "never" for s in statuses)))
rows = pd.DataFrame([{
    "status": status_label(s.status, lang, s.why),
    "site": s.name,
    "tenant": s.tenant,
    "last_drill": pd.Timestamp(s.last["started_at"]) if s.last else None,
    "rto": s.last["rto_seconds"] if s.last else None,
    "rto_target": s.rto_target,
    "backup_age": round(s.backup_age_seconds / 3600, 1) if s.backup_age_seconds is not None else None,
    "rpo": round(s.rpo_target / 3600, 1),
    "reason": why_label(s.why, lang) if s.status in ("red", "amber") else "",
    "trend": [value or 0 for value in s.trend],
} for s in shown])
columns = {name: t(f"col.{name}") for name in ("status", "site", "tenant", "rto_target", "rpo", "reason")}
st.dataframe(rows, hide_index=True, width="stretch", height=min(36 * (len(rows) + 1) + 3, 720),
             column_config={
                 **columns,
                 "last_drill": st.column_config.DatetimeColumn(t("col.last_drill"), format="DD/MM/YYYY HH:mm"),
                 "rto": st.column_config.NumberColumn(t("col.rto"), format="%.0f"),
                 "backup_age": st.column_config.NumberColumn(t("col.backup_age"), format="%.1f"),
                 "trend": st.column_config.LineChartColumn(t("col.trend"), y_min=0),
             })

if shown:  # a link would reload the page and end the session: the app switches pages itself
    chosen = st.selectbox(t("open_site"), [s.site_id for s in shown], placeholder=t("choose"),
                          format_func=lambda sid: next(s.name for s in shown if s.site_id == sid))
    if st.button(t("open_site")):
        st.switch_page("views/site.py", query_params={"site": chosen})

tenants = session.fleet().tenants(session.scope())
if tenants:  # the signed version: drill report --tenant T --month YYYY-MM
    st.subheader(t("compliance.heading"))
    tenant_column, month_column = st.columns(2)
    tenant = tenant_column.selectbox(t("compliance.tenant"), tenants, placeholder=t("choose"))
    today = datetime.now(timezone.utc)
    months = [f"{(today.year * 12 + today.month - 1 - back) // 12}-{(today.month - 1 - back) % 12 + 1:02d}"
              for back in range(13)]  # this month and the twelve before
    month = month_column.selectbox(t("compliance.month"), months, index=1, placeholder=t("choose"))
    session.compliance_button(tenant, month)
