"""Restore Drill's core: catalog, sources, crypto, runtimes, engines, checks, reports, pipeline."""

from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    """The installed package's version (`drill --version`, the completion script's header)."""
    try:
        return version("restore-drill")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"
