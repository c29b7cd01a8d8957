"""Group commit of reports: many requests, one transaction a round, and still each answer means "stored"."""

import subprocess
import sys
import textwrap
import threading
import uuid

import pytest
from sqlmodel import func, select

from conftest import require_infra
from gridgov_common.db import Database
from gridgov_common.errors import ValidationFailed
from gridgov_event_intake.app import open_database
from gridgov_event_intake.groupcommit import CommitterStopped, GroupCommitter
from gridgov_event_intake.reports import handlers
from gridgov_event_intake.reports.models import Report
from gridgov_event_intake.reports.normalise import Draft


def draft(n: int = 0, media_ids: tuple[str, ...] = ()) -> Draft:
    return Draft(channel="patrol", category_code="01002", description=f"report {n}", lon=113.75, lat=23.02,
                 source_crs="wgs84", reporter_id="gw-1", reporter_role="grid_worker", media_ids=media_ids)


@pytest.fixture
def db(tmp_path):
    database = open_database(f"sqlite:///{tmp_path / 'intake.db'}")
    database.create_all()
    yield database
    database.engine.dispose()


@pytest.fixture
def committer(db):
    c = GroupCommitter(db)
    c.start()
    yield c
    c.stop()


def stored(db: Database) -> tuple[int, int]:
    """Reports and outbox rows as a fresh connection sees them."""
    with db.session() as session:
        reports = session.exec(select(func.count()).select_from(Report)).one()
        outbox = session.exec(select(func.count()).select_from(db.tables.outbox)).one()
    return reports, outbox


def hold(committer: GroupCommitter) -> threading.Event:
    """Keep the writer busy until the returned event is set, so the next submissions queue into one round."""
    started, release = threading.Event(), threading.Event()

    def blocker(_session):
        started.set()
        release.wait(10)

    committer.submit(blocker)
    assert started.wait(10)
    return release


def accept_job(db, d, key=None):
    return handlers.report_writer(db, d, key)


def test_accept_concurrent_submissions_stores_each_once(db, committer):
    answers, barrier = {}, threading.Barrier(40)

    def submit(i):
        barrier.wait()
        key = f"patrol:gw-1:header:k{i % 10}"  # four retries of each of ten reports, all at once
        answers[i] = handlers.accept(db, draft(i % 10), key, committer=committer)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stored(db) == (10, 10)
    assert sum(a.created for a in answers.values()) == 10
    for i in range(10):
        assert len({answers[j].report_id for j in range(i, 40, 10)}) == 1  # every retry got the original


def test_commit_waiting_submissions_in_one_round(db, committer):
    release = hold(committer)
    futures = [committer.submit(accept_job(db, draft(i))) for i in range(20)]
    rounds = committer.rounds
    assert not any(f.done() for f in futures)  # nobody is answered before the commit
    release.set()
    results = [f.result(10) for f in futures]
    assert all(r.created for r in results)
    assert committer.rounds == rounds + 2  # the blocker's round, then all twenty in one transaction
    assert stored(db) == (20, 20)


def test_commit_round_with_a_failing_report_keeps_the_others(db, committer):
    release = hold(committer)
    good = committer.submit(accept_job(db, draft(1)))
    bad = committer.submit(accept_job(db, draft(2, media_ids=("no-such-upload",))))
    also_good = committer.submit(accept_job(db, draft(3)))
    release.set()
    assert good.result(10).created and also_good.result(10).created
    with pytest.raises(ValidationFailed) as failed:
        bad.result(10)
    assert failed.value.details[0].field == "media_ids"
    assert stored(db) == (2, 2)
    with db.session() as session:
        assert {r.description for r in session.exec(select(Report)).all()} == {"report 1", "report 3"}


def test_stop_committer_commits_what_was_handed_over_and_refuses_more(db):
    committer = GroupCommitter(db)
    committer.start()
    release = hold(committer)
    futures = [committer.submit(accept_job(db, draft(i))) for i in range(5)]
    stopper = threading.Thread(target=committer.stop)
    stopper.start()
    release.set()
    stopper.join(10)
    assert all(f.result(0).created for f in futures)
    assert stored(db) == (5, 5)
    with pytest.raises(CommitterStopped):
        committer.submit(accept_job(db, draft(9)))


CRASHING_WRITER = textwrap.dedent("""
    import os, sys, threading
    from gridgov_event_intake.app import open_database
    from gridgov_event_intake.groupcommit import GroupCommitter
    from gridgov_event_intake.reports import handlers
    from gridgov_event_intake.reports.normalise import Draft

    db = open_database(sys.argv[1])
    committer = GroupCommitter(db, max_batch=7)
    committer.start()
    answered = 0
    lock = threading.Lock()

    def submit(i):
        global answered
        d = Draft(channel="patrol", category_code="01002", description=f"r{i}", lon=113.75, lat=23.02,
                  source_crs="wgs84", reporter_id="gw-1", reporter_role="grid_worker")
        accepted = handlers.accept(db, d, None, committer=committer)
        with lock:
            print(accepted.report_id, flush=True)
            answered += 1
            if answered == 30:
                os._exit(0)  # die with rounds still queued and in flight: no stop, no cleanup

    for i in range(200):
        threading.Thread(target=submit, args=(i,)).start()
""")


def test_crash_between_rounds_loses_no_answered_report(db):
    url = str(db.engine.url)
    db.engine.dispose()
    out = subprocess.run([sys.executable, "-c", CRASHING_WRITER, url], capture_output=True, text=True,
                         timeout=120)
    answered = out.stdout.split()
    assert len(answered) >= 30, out.stderr
    survivor = open_database(url)
    try:
        with survivor.session() as session:
            found = set(session.exec(select(Report.id).where(Report.id.in_(answered))).all())
            reports = session.exec(select(func.count()).select_from(Report)).one()
            outbox = session.exec(select(func.count()).select_from(survivor.tables.outbox)).one()
    finally:
        survivor.engine.dispose()
    assert found == set(answered)  # every report answered before the crash is stored
    assert reports == outbox  # and each with its outbox row: nothing half-written


@pytest.fixture
def pg_url():
    import psycopg

    admin = require_infra("GRIDGOV_TEST_PG_ADMIN_URL", "PostgreSQL")
    name = f"gg_gc_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" OWNER gridgov')
    base = admin.rsplit("/", 1)[0]
    yield base.replace("postgresql://postgres@", "postgresql+psycopg://gridgov:gridgov@") + f"/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.distributed
def test_accept_same_keys_in_two_processes_on_postgresql_stores_each_once(pg_url):
    dbs = [open_database(pg_url) for _ in range(2)]  # two instances of intake
    dbs[0].create_all()
    committers = [GroupCommitter(d) for d in dbs]
    for c in committers:
        c.start()
    answers, barrier = {}, threading.Barrier(40)

    def submit(i):
        barrier.wait()
        answers[i] = handlers.accept(dbs[i % 2], draft(i % 10), f"patrol:gw-1:header:k{i % 10}",
                                     committer=committers[i % 2])

    try:
        threads = [threading.Thread(target=submit, args=(i,)) for i in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert stored(dbs[0]) == (10, 10)
        for i in range(10):
            assert len({answers[j].report_id for j in range(i, 40, 10)}) == 1  # both instances agree
    finally:
        for c in committers:
            c.stop()
        for d in dbs:
            d.engine.dispose()
