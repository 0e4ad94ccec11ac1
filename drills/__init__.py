"""Restore Drill's core: catalog, sources, crypto, runtimes, engines, checks, reports, pipeline."""
