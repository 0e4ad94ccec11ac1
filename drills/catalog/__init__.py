"""The site catalog: one YAML file, one schema, validated at load."""

from drills.catalog.loader import CatalogFile, load_catalog
from drills.catalog.model import Catalog, Site

__all__ = ["Catalog", "CatalogFile", "Site", "load_catalog"]
