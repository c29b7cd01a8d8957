"""Queries on the learned catalog (store a published version, read the version in effect) and its cache."""

from gridgov_common.learned_catalog import LearnedCatalog
from gridgov_notification.catalog.models import CatalogCategory, CatalogVersion

# notification's learned versions and the version in effect per database, in memory (shared with event-intake).
books = LearnedCatalog(CatalogVersion, CatalogCategory)
store = books.store
