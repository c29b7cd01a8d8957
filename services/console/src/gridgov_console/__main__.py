"""``python -m gridgov_console``: serve the console (the web page and its same-origin API)."""

from gridgov_common.serve import serve
from gridgov_console.app import create_app
from gridgov_console.settings import ConsoleSettings

if __name__ == "__main__":
    serve(create_app, ConsoleSettings())
