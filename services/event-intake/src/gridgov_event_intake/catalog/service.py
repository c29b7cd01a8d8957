"""Queries on the learned catalog (store a published version, read the version in effect) and its cache."""

from gridgov_common.learned_catalog import LearnedCatalog
from gridgov_event_intake.catalog.models import CatalogCategory, CatalogVersion

# intake's learned versions and the version in effect per database, in memory (shared with notification).
books = LearnedCatalog(CatalogVersion, CatalogCategory)
store = books.store
