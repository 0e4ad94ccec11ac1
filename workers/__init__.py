"""Unattended drills: dramatiq on Redis (actors, site leases, scheduler, reaper, alerts,
metrics). Depends on `drills`, never the other way round; its commands plug into `drill`."""
