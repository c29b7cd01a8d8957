"""``python -m gridgov_grid_registry``: serve grid-registry (API, relay and consumers)."""

from gridgov_common.serve import serve
from gridgov_grid_registry.app import create_app
from gridgov_grid_registry.settings import RegistrySettings

if __name__ == "__main__":
    serve(create_app, RegistrySettings())
