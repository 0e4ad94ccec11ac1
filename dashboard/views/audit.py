"""The audit journal, for admins: sign-ins, refusals, views and downloads, newest first."""

import pandas as pd
import streamlit as st

from dashboard import session
from dashboard.session import t

session.require_role("admin")
journal = session.journal()
broken = journal.verify()
if broken:
    st.error(t("audit.chain_broken", lines=", ".join(map(str, broken[:20]))))
else:
    st.success(t("audit.chain_ok"))
events = pd.DataFrame(journal.newest(500))
if not events.empty:
    st.dataframe(events.drop(columns=["previous_sha256"]).astype(str), hide_index=True, width="stretch")
