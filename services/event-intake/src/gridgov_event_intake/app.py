"""event-intake: reports from every channel, persisted and published on ``gridgov.reports.received``."""

from dataclasses import dataclass
from threading import Thread

from fastapi import FastAPI

from gridgov_common.db import Database
from gridgov_common.limits import MULTIPART_ALLOWANCE, RouteLimit
from gridgov_common.runtime import ServiceRuntime
from gridgov_common.web import create_service_app
from gridgov_event_intake.assist import models as _assist_models  # noqa: F401 - registers the tables
from gridgov_event_intake.assist import service as assist_service
from gridgov_event_intake.assist.repeat_views import router as repeat_router
from gridgov_event_intake.assist.views import router as assist_router
from gridgov_event_intake.catalog import models as _catalog_models  # noqa: F401 - registers the tables
from gridgov_event_intake.consumers import consumer_specs
from gridgov_event_intake.groupcommit import GroupCommitter
from gridgov_event_intake.knowledge import models as _knowledge_models  # noqa: F401 - registers the tables
from gridgov_event_intake.knowledge import service as knowledge
from gridgov_event_intake.knowledge.views import indicator_router as knowledge_indicator_router
from gridgov_event_intake.knowledge.views import router as knowledge_router
from gridgov_event_intake.media import models as _media_models  # noqa: F401 - registers the tables
from gridgov_event_intake.media.views import router as media_router
from gridgov_event_intake.open311 import models as _open311_models  # noqa: F401 - registers the tables
from gridgov_event_intake.open311.views import guard_error as open311_guard_error
from gridgov_event_intake.open311.views import router as open311_router
from gridgov_event_intake.reports import models as _models  # noqa: F401 - registers the tables
from gridgov_event_intake.reports.handlers import ReportSession
from gridgov_event_intake.reports.views import router as reports_router
from gridgov_event_intake.rewards import models as _reward_models  # noqa: F401 - registers the tables
from gridgov_event_intake.rewards.views import router as rewards_router
from gridgov_event_intake.settings import IntakeSettings
from gridgov_event_intake.tables import metadata


@dataclass
class IntakeRuntime(ServiceRuntime):
    """The shared runtime plus intake's group committer, through which reports are written."""

    committer: GroupCommitter | None = None
    assist_preload: Thread | None = None

    def prepare(self) -> None:
        """Seed an empty knowledge base, start the group committer once the schema exists, and load the seat
        assistant's classifier in the background (seconds: startup and /readyz do not wait for it)."""
        knowledge.seed(self.db)
        self.committer = GroupCommitter(self.db)
        self.committer.start()
        self.assist_preload = assist_service.preload(self.db)

    def stop(self) -> None:
        """Commit the reports already handed over, then stop the rest."""
        if self.committer is not None:
            self.committer.stop()
        super().stop()


def open_database(url: str, service_name: str = "event-intake") -> Database:
    """intake's database: its tables, and sessions that write the reports staged in a transaction at commit."""
    return Database(url, metadata, service_name, session_class=ReportSession)


def build_runtime(settings: IntakeSettings | None = None) -> IntakeRuntime:
    """The service runtime: its database, the bus, its consumers and the group committer."""
    settings = settings or IntakeSettings()
    db = open_database(settings.resolved_database_url(), settings.service_name)
    return IntakeRuntime(settings=settings, db=db, consumers=consumer_specs(db, settings),
                         migrations_package="gridgov_event_intake")


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    """The event-intake API."""
    return create_service_app(
        title="gridgov event-intake",
        description="Reports from patrols, the 12345 hotline, citizens and Open311 clients.",
        runtime_factory=lambda: build_runtime(settings),
        routers=[reports_router, media_router, rewards_router, open311_router, knowledge_router, assist_router,
                 knowledge_indicator_router, repeat_router],
        # A photo may be as large as the media limit (plus a form's wrapping); everything else gets the default.
        route_limits=(RouteLimit("POST", "/v1/media$",
                                 (settings or IntakeSettings()).media_max_bytes + MULTIPART_ALLOWANCE),),
        error_renderers={"/open311/v2/": open311_guard_error},
    )
