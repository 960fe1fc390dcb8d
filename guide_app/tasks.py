"""The one threading module: work off the GUI thread, results back on it.

Two executors, one thread each:

- the **DB executor** runs every write and every slow read, one at a time, so SQLite never sees two
  writers from this process and writes keep the order the guide made them in;
- the **network executor** runs HQ calls (sync), so a slow network never queues behind the book.

A task is a plain function ``fn(control) -> result``. It never touches widgets; it may report
progress through ``control.progress(done, total)`` and should stop early when
``control.cancelled()`` is true. ``handle.cancel()`` drops the result; ``handle.stop()`` only asks
the task to stop and still delivers what it returns (a partial import report). The result, the error or the progress is delivered on the GUI
thread through a Qt signal (a queued connection), and only while the task's ``owner`` widget is
still alive and the task was not cancelled.

Tasks submitted with the same ``key`` replace each other: the older one is cancelled and its
result dropped, so "latest query wins" for search-as-you-type.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypedDict, TypeVar, Unpack

import shiboken6
from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)

T = TypeVar("T")
PROGRESS_INTERVAL_S = 0.05  # at most ~20 progress updates a second reach the GUI


class CancelToken:
    """Set from the GUI thread, read from the worker."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    def cancelled(self) -> bool:
        return self._event.is_set()


class TaskCancelled(Exception):
    """Raised by :meth:`TaskControl.check` to unwind a task whose token was cancelled."""


class TaskControl:
    """What a running task may use: its cancel token and a throttled progress callback."""

    def __init__(self, token: CancelToken, report: Callable[[int, int], None]) -> None:
        self.token = token
        self._report = report
        self._last = 0.0

    def cancelled(self) -> bool:
        return self.token.cancelled()

    def check(self) -> None:
        if self.token.cancelled():
            raise TaskCancelled()

    def progress(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - self._last >= PROGRESS_INTERVAL_S:
            self._last = now
            self._report(done, total)


class TaskHandle(Generic[T]):
    """The GUI side of a submitted task."""

    def __init__(
        self,
        token: CancelToken,
        owner: QObject | None,
        on_done: Callable[[T], None] | None,
        on_error: Callable[[BaseException], None] | None,
        on_progress: Callable[[int, int], None] | None,
        on_cancelled: Callable[[], None] | None,
    ) -> None:
        self.token = token
        self.owner = owner
        self.on_done = on_done
        self.on_error = on_error
        self.on_progress = on_progress
        self.on_cancelled = on_cancelled
        self.future: Future[Any] | None = None
        self.finished = False
        self.dropped = False

    def cancel(self) -> None:
        """Stop the task and drop its result (``on_cancelled`` runs instead of ``on_done``)."""
        self.dropped = True
        self.token.cancel()

    def stop(self) -> None:
        """Ask the task to stop early but still deliver what it returns (e.g. a partial import
        report saying where it stopped)."""
        self.token.cancel()

    @property
    def cancelled(self) -> bool:
        return self.dropped

    def owner_alive(self) -> bool:
        return self.owner is None or shiboken6.isValid(self.owner)


class TaskCallbacks(TypedDict, Generic[T], total=False):
    """How a task's outcome comes back: every callback runs on the GUI thread, and none once ``owner``
    is deleted. A new task with the ``key`` of one not yet finished cancels that one."""

    on_done: Callable[[T], None] | None
    on_error: Callable[[BaseException], None] | None
    on_progress: Callable[[int, int], None] | None
    on_cancelled: Callable[[], None] | None
    owner: QObject | None
    key: str | None


class _Relay(QObject):
    """Lives on the GUI thread; a worker emits ``deliver`` and the slot runs there (queued)."""

    deliver = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.deliver.connect(self._run)

    @Slot(object)
    def _run(self, call: Callable[[], None]) -> None:
        call()


class TaskRunner(QObject):
    """Owns both executors. Create once in the composition root; call :meth:`shutdown` at exit."""

    # an error of a task that had no on_error (the main window shows it)
    unhandled_error = Signal(object)
    # number of tasks submitted and not yet delivered (for a busy indicator)
    busy_changed = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="guide-db")
        self._net = ThreadPoolExecutor(max_workers=1, thread_name_prefix="guide-net")
        self._relay = _Relay()
        self._keyed: dict[str, TaskHandle[Any]] = {}
        self._pending = 0
        self._closed = False

    # -- submitting -------------------------------------------------------------------------
    def run_db(self, fn: Callable[[TaskControl], T], **how: Unpack[TaskCallbacks[T]]) -> TaskHandle[T]:
        """Run ``fn`` on the DB thread (every write and every slow read)."""
        return self._submit(self._db, fn, how)

    def run_net(self, fn: Callable[[TaskControl], T], **how: Unpack[TaskCallbacks[T]]) -> TaskHandle[T]:
        """Run ``fn`` on the network thread (HQ calls)."""
        return self._submit(self._net, fn, how)

    def _submit(self, executor: ThreadPoolExecutor, fn: Callable[[TaskControl], T],
                how: TaskCallbacks[T]) -> TaskHandle[T]:
        unknown = how.keys() - TaskCallbacks.__optional_keys__
        if unknown:  # a misspelt callback would otherwise be dropped without a word
            raise TypeError(f"unexpected keyword arguments: {', '.join(sorted(unknown))}")
        key = how.get("key")
        on_done, on_error = how.get("on_done"), how.get("on_error")
        on_progress, on_cancelled, owner = how.get("on_progress"), how.get("on_cancelled"), how.get("owner")
        token = CancelToken()
        handle: TaskHandle[T] = TaskHandle(token, owner, on_done, on_error, on_progress, on_cancelled)
        if self._closed:
            # a timer or a closing widget asking for work while the app exits: nothing will run it
            log.debug("task submitted after shutdown; dropped")
            handle.cancel()
            handle.finished = True
            return handle
        if key is not None:
            previous = self._keyed.get(key)
            if previous is not None:
                previous.cancel()
            self._keyed[key] = handle
        self._set_pending(self._pending + 1)

        def report(done: int, total: int) -> None:
            if handle.on_progress is not None and not handle.dropped:
                self._relay.deliver.emit(lambda: self._progress(handle, done, total))

        control = TaskControl(token, report)

        def work() -> None:
            if handle.dropped:  # cancelled while queued: skip the work entirely
                self._relay.deliver.emit(lambda: self._finish(handle, key, None, None, ran=False))
                return
            try:
                result: Any = fn(control)
                error: BaseException | None = None
            except BaseException as exc:  # delivered to the GUI; the worker thread must survive
                result, error = None, exc
            self._relay.deliver.emit(lambda: self._finish(handle, key, result, error, ran=True))

        handle.future = executor.submit(work)
        return handle

    # -- delivering (GUI thread) -----------------------------------------------------------
    def _progress(self, handle: TaskHandle[Any], done: int, total: int) -> None:
        if handle.finished or handle.cancelled or not handle.owner_alive() or handle.on_progress is None:
            return
        handle.on_progress(done, total)

    def _finish(
        self, handle: TaskHandle[Any], key: str | None, result: Any, error: BaseException | None, *, ran: bool
    ) -> None:
        handle.finished = True
        self._set_pending(self._pending - 1)
        if key is not None and self._keyed.get(key) is handle:
            del self._keyed[key]
        if not handle.owner_alive():
            return
        if handle.dropped or isinstance(error, TaskCancelled):
            if handle.on_cancelled is not None:
                handle.on_cancelled()
            return
        if error is not None:
            if handle.on_error is not None:
                handle.on_error(error)
            else:
                log.error("task failed", exc_info=error)
                self.unhandled_error.emit(error)
            return
        if ran and handle.on_done is not None:
            handle.on_done(result)

    def _set_pending(self, n: int) -> None:
        self._pending = n
        self.busy_changed.emit(n)

    @property
    def pending(self) -> int:
        return self._pending

    # -- shutting down ---------------------------------------------------------------------
    def shutdown(self, wait: bool = True) -> None:
        """Cancel what is queued, let the running task finish, and stop both threads."""
        if self._closed:
            return
        self._closed = True
        for handle in list(self._keyed.values()):
            handle.cancel()
        self._db.shutdown(wait=wait, cancel_futures=True)
        self._net.shutdown(wait=wait, cancel_futures=True)
