"""The task runner: results on the GUI thread, latest-wins keys, cancel, progress, errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import shiboken6
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from guide_app.domain.errors import UserError
from guide_app.tasks import TaskControl, TaskRunner


@pytest.fixture()
def runner(qtbot: QtBot) -> Iterator[TaskRunner]:
    r = TaskRunner()
    yield r
    r.shutdown()


def test_result_arrives_on_the_gui_thread(qtbot: QtBot, runner: TaskRunner) -> None:
    seen: dict[str, object] = {}
    gui = threading.current_thread()

    def work(_: TaskControl) -> str:
        seen["worker"] = threading.current_thread()
        return "ok"

    def done(value: str) -> None:
        seen["value"] = value
        seen["delivered_on"] = threading.current_thread()

    runner.run_db(work, on_done=done)
    qtbot.waitUntil(lambda: "value" in seen)
    assert seen["value"] == "ok"
    assert seen["delivered_on"] is gui and seen["worker"] is not gui
    assert runner.pending == 0


def test_db_and_net_run_on_separate_single_threads(qtbot: QtBot, runner: TaskRunner) -> None:
    names: list[str] = []
    for _ in range(3):
        runner.run_db(lambda _c: threading.current_thread().name, on_done=names.append)
        runner.run_net(lambda _c: threading.current_thread().name, on_done=names.append)
    qtbot.waitUntil(lambda: len(names) == 6)
    assert {n.split("_")[0] for n in names} == {"guide-db", "guide-net"}
    assert len(set(names)) == 2


def test_latest_task_with_the_same_key_wins(qtbot: QtBot, runner: TaskRunner) -> None:
    gate = threading.Event()
    results: list[str] = []
    cancelled: list[str] = []

    def slow(_: TaskControl) -> str:
        gate.wait(5)
        return "first"

    runner.run_db(slow, on_done=results.append, on_cancelled=lambda: cancelled.append("first"), key="search")
    runner.run_db(lambda _c: "second", on_done=results.append, key="search")
    gate.set()
    qtbot.waitUntil(lambda: results == ["second"] and cancelled == ["first"])


def test_cancel_token_stops_a_long_task_and_progress_is_reported(qtbot: QtBot, runner: TaskRunner) -> None:
    progress: list[tuple[int, int]] = []
    outcome: list[str] = []
    started = threading.Event()

    def long(control: TaskControl) -> str:
        for i in range(10_000):
            started.set()
            control.progress(i, 10_000)
            control.check()
            threading.Event().wait(0.001)
        return "finished"

    handle = runner.run_db(
        long, on_done=outcome.append, on_progress=lambda d, t: progress.append((d, t)),
        on_cancelled=lambda: outcome.append("cancelled"),
    )
    qtbot.waitUntil(lambda: len(progress) >= 2)
    handle.cancel()
    qtbot.waitUntil(lambda: outcome == ["cancelled"])
    assert all(t == 10_000 for _, t in progress)


def test_errors_go_to_on_error_or_the_unhandled_signal(qtbot: QtBot, runner: TaskRunner) -> None:
    errors: list[BaseException] = []

    def fail(_: TaskControl) -> None:
        raise UserError("customer.name_required")

    runner.run_db(fail, on_error=errors.append)
    qtbot.waitUntil(lambda: len(errors) == 1)
    assert isinstance(errors[0], UserError)
    with qtbot.waitSignal(runner.unhandled_error) as blocker:
        runner.run_db(fail)
    assert isinstance(blocker.args[0], UserError)
    # the worker thread survived the errors
    values: list[int] = []
    runner.run_db(lambda _c: 7, on_done=values.append)
    qtbot.waitUntil(lambda: values == [7])


def test_result_for_a_destroyed_owner_is_dropped(qtbot: QtBot, runner: TaskRunner) -> None:
    gate = threading.Event()
    owner = QWidget()
    got: list[int] = []
    runner.run_db(lambda _c: (gate.wait(5), 1)[1], on_done=got.append, owner=owner)
    owner.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(owner))
    gate.set()
    qtbot.waitUntil(lambda: runner.pending == 0)
    assert got == []


def test_stop_still_delivers_the_partial_result(qtbot: QtBot, runner: TaskRunner) -> None:
    gate = threading.Event()
    runner.run_db(lambda _c: gate.wait(5))  # keeps the DB thread busy so the next task is queued
    results: list[str] = []

    def job(control: TaskControl) -> str:
        return "stopped early" if control.cancelled() else "ran to the end"

    handle = runner.run_db(job, on_done=results.append)
    handle.stop()  # before it even started: it still runs, sees the flag and reports
    gate.set()
    qtbot.waitUntil(lambda: results == ["stopped early"])


def test_work_submitted_after_shutdown_is_dropped_quietly(qtbot: QtBot) -> None:
    runner = TaskRunner()
    runner.shutdown()
    got: list[int] = []
    handle = runner.run_db(lambda _c: 1, on_done=got.append)
    qtbot.wait(20)
    assert handle.cancelled and got == [] and runner.pending == 0


def test_a_misspelt_callback_is_refused_before_anything_runs(runner: TaskRunner) -> None:
    ran: list[str] = []
    for submit in (runner.run_db, runner.run_net):
        with pytest.raises(TypeError, match="on_dnoe"):
            submit(lambda _c: ran.append("ran"), on_dnoe=print)  # type: ignore[call-arg]
    assert runner.pending == 0 and ran == []
