"""``python -m gridgov_dispatch``: serve dispatch (API, relay and consumers)."""

from gridgov_common.serve import serve
from gridgov_dispatch.app import create_app
from gridgov_dispatch.settings import DispatchSettings

if __name__ == "__main__":
    serve(create_app, DispatchSettings())
