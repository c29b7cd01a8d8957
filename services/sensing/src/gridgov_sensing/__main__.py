"""``python -m gridgov_sensing``: serve sensing (API, relay, consumers and the MQTT subscriber)."""

from gridgov_common.serve import serve
from gridgov_sensing.app import create_app
from gridgov_sensing.settings import SensingSettings

if __name__ == "__main__":
    serve(create_app, SensingSettings())
