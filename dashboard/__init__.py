"""The Streamlit dashboard (status per site, RTO history). Not built yet (issue: dashboard);
it will read the evidence store through `drills.reports`."""
