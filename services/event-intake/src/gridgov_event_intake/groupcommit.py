"""Group commit: one writer thread commits the writes of concurrent requests together, one transaction a round.

With SQLite there is one writer at a time anyway; a thread per request only queues for the connection while
the Python threads fight over the GIL. Here each request hands its write (a job: a function of a session) to
the writer and waits; the writer runs every job waiting at that moment in one transaction, commits once and
only then answers each request. So an answer still means "committed", and one commit serves many requests.

A job that raises spoils its round: the writer rolls the round back and runs each of its jobs alone, in its
own transaction, so the failing one gets its own error and the others are committed as if alone.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlmodel import Session

from gridgov_common.db import Database

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[Session], T]


class CommitterStopped(RuntimeError):
    """The writer was stopped before the job could run; nothing of it was stored."""


@dataclass
class _Pending(Generic[T]):
    job: Job[T]
    future: Future[T]


class GroupCommitter:
    """The one writer thread of a service's database, committing each round of waiting jobs at once."""

    def __init__(self, db: Database, max_batch: int = 256, name: str = "group-commit"):
        self.db = db
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=f"{db.service_name}-{name}", daemon=True)
        self._stopping = False
        self._accepting = threading.Lock()  # no job can slip into the queue behind the stop marker
        self.rounds = 0  # transactions committed, for tests and metrics
        self.committed = 0  # jobs committed

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Commit the jobs already handed over, then stop the writer; later submissions are refused."""
        with self._accepting:
            if self._stopping:
                return
            self._stopping = True
            self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def submit(self, job: Job[T]) -> Future[T]:
        """Hand a job to the writer; the future completes after the round holding it has committed."""
        future: Future[T] = Future()
        with self._accepting:
            if self._stopping:
                raise CommitterStopped("the service is stopping")
            self._queue.put(_Pending(job, future))
        return future

    def run(self, job: Job[T], timeout: float | None = None) -> T:
        """Run a job in the writer and wait for its committed result (for sync callers)."""
        return self.submit(job).result(timeout)

    async def run_async(self, job: Job[T]) -> T:
        """Run a job in the writer and await its committed result without holding a worker thread."""
        return await asyncio.wrap_future(self.submit(job))

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            batch = [first] if first is not None else []
            stop = first is None
            # Everything that queued while the previous round committed joins this one: no timer, no added wait.
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    continue
                batch.append(item)
            if batch:
                self._round(batch)
            if stop:
                return

    def _round(self, batch: list[_Pending]) -> None:
        """Commit a batch in one transaction; on any failure, each job alone."""
        live = [p for p in batch if p.future.set_running_or_notify_cancel()]
        if not live:
            return
        if len(live) > 1:
            try:
                results = []
                with self.db.session() as session:
                    for pending in live:
                        results.append(pending.job(session))
                    session.commit()
            except Exception as exc:  # noqa: BLE001 - any failure: retry each job alone, below
                # The class only: a database error's text carries the rows' values (reporters' names, phones).
                log.debug("a round of %d failed (%s); running its jobs one by one", len(live), type(exc).__name__)
            else:
                self.rounds += 1
                self.committed += len(live)
                for pending, result in zip(live, results, strict=True):
                    pending.future.set_result(result)
                return
        for pending in live:
            self._alone(pending)

    def _alone(self, pending: _Pending) -> None:
        """Run one job in its own transaction; its error goes to its own caller."""
        try:
            with self.db.session() as session:
                result = pending.job(session)
                session.commit()
        except Exception as exc:  # noqa: BLE001 - the caller gets whatever went wrong
            pending.future.set_exception(exc)
            return
        self.rounds += 1
        self.committed += 1
        pending.future.set_result(result)
