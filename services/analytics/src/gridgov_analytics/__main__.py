"""``python -m gridgov_analytics``: serve analytics (API, relay and consumers)."""

from gridgov_analytics.app import create_app
from gridgov_analytics.settings import AnalyticsSettings
from gridgov_common.serve import serve

if __name__ == "__main__":
    serve(create_app, AnalyticsSettings())
