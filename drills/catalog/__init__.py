"""The site catalog: one YAML file, one schema, validated at load."""

from drills.catalog.loader import load_catalog
from drills.catalog.model import Catalog, Site

__all__ = ["Catalog", "Site", "load_catalog"]
