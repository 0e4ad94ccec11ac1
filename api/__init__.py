"""Restore Drill's HTTP API: `drill api` serves, read-only, what the dashboard shows (sites, their
status, drills, signed reports, certificates) to the tools IT providers and editors already run,
one token per tenant and role; a "drill now" for operators; and the sites' status badges.
Like the dashboard, it reads through drills/ and reaches workers/ only to enqueue."""
