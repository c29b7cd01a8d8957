"""``python -m gridgov_notification``: serve notification (API, relay and consumers)."""

from gridgov_common.serve import serve
from gridgov_notification.app import create_app
from gridgov_notification.settings import NotificationSettings

if __name__ == "__main__":
    serve(create_app, NotificationSettings())
