"""``python -m gridgov_event_intake``: serve event-intake (API, relay and consumers)."""

from gridgov_common.serve import serve
from gridgov_event_intake.app import create_app
from gridgov_event_intake.settings import IntakeSettings

if __name__ == "__main__":
    serve(create_app, IntakeSettings())
