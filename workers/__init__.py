"""Unattended drills: dramatiq on Redis (broker, actors, scheduler, reaper).

Not built yet (issue: fleet scale). Drills run in-process today with `drill run`; the worker
will call the same `drills.pipeline.run_drill`, one message per drill.
"""
