"""The crash message (drafts saved first, report path shown in Chinese), drafts offered back in
the customer form, and the first-start setup (language, HQ address or work offline only)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from guide_app.i18n import current_language, set_language
from guide_app.logs import CrashReporter
from guide_app.views.app_services import AppServices
from guide_app.views.crash_dialog import EXIT_AFTER_CRASH, CrashDialogs
from guide_app.views.customer_form import CustomerFormDialog
from guide_app.views.drafts import draft_key
from guide_app.views.setup_wizard import SetupWizard, valid_hq_url

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def _crash(reporter: CrashReporter) -> Path:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        return reporter.report(*sys.exc_info())  # type: ignore[arg-type]


def test_crash_saves_the_open_form_and_says_where_the_report_is(
        qtbot: QtBot, services: AppServices, tmp_path: Path) -> None:
    form = CustomerFormDialog(services)
    qtbot.addWidget(form)
    form.show()
    assert form.draft.isHidden()  # nothing saved before
    form.name.setText("草稿客户")
    form.phone.setText("13800138000")
    form.notes.setPlainText("喜欢蓝色")
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    reporter = CrashReporter(tmp_path / "logs")
    dialogs = CrashDialogs(app, reporter)
    report = _crash(reporter)
    assert dialogs.box is not None and dialogs.box.isVisible()
    text = dialogs.box.text()
    assert str(report) in text and "错误报告已保存到" in text and "1 个表单已保存为草稿" in text
    assert report.is_file() and "RuntimeError: boom" in report.read_text(encoding="utf-8")
    # a second crash while the message is up does not stack another message
    box = dialogs.box
    _crash(reporter)
    assert dialogs.box is box
    exits: list[int] = []
    dialogs.app = type("FakeApp", (), {"exit": lambda self, code: exits.append(code)})()  # type: ignore[assignment]
    dialogs.quit_button.click()
    assert exits == [EXIT_AFTER_CRASH]
    reporter.listeners.clear()
    form.close()

    # the next time the new-customer form opens, the draft is offered back
    again = CustomerFormDialog(services)
    qtbot.addWidget(again)
    again.show()
    assert again.draft.isVisible()
    assert again.name.text() == ""
    again.draft.restore_button.click()
    assert again.name.text() == "草稿客户" and again.notes.toPlainText() == "喜欢蓝色"
    assert again.draft.isHidden()
    with qtbot.waitSignal(again.saved, timeout=5000):
        again.submit()
    assert services.settings.get(draft_key("customer_form", None)) is None  # saved: the draft is done


def test_a_draft_not_taken_stays_and_discard_removes_it(qtbot: QtBot, services: AppServices) -> None:
    key = draft_key("customer_form", None)
    services.settings.set(key, {"saved_at": "2026-01-01 10:00", "fields": {"name": "甲", "bogus": 1}})
    form = CustomerFormDialog(services)
    qtbot.addWidget(form)
    assert "2026-01-01 10:00" in form.draft.label.text()
    form.reject()
    assert services.settings.get(key) is not None  # closed without a choice: still offered next time
    form = CustomerFormDialog(services)
    qtbot.addWidget(form)
    form.draft.discard_button.click()
    assert services.settings.get(key) is None and form.draft.isHidden()


def test_setup_switches_language_and_checks_the_hq_address(qtbot: QtBot) -> None:
    chosen: list[str] = []

    def use(lang: str) -> None:
        chosen.append(lang)
        set_language(lang)

    wizard = SetupWizard(use)
    qtbot.addWidget(wizard)
    try:
        assert wizard.windowTitle() == "导购助手 · 首次设置"
        assert wizard.offline.text().startswith("仅离线使用")
        wizard.language.setCurrentIndex(wizard.language.findData("en"))
        assert chosen == ["en"] and current_language() == "en"
        assert wizard.windowTitle() == "Guide Desk · first-time setup" and wizard.next_button.text() == "Next"
        wizard.url.setText("hq.example.com")
        wizard.next_button.click()
        assert wizard.choice is None and "http" in wizard.error.text()
        wizard.url.setText(" https://hq.example.com/ ")
        wizard.next_button.click()
        assert wizard.choice is not None
        assert (wizard.choice.language, wizard.choice.hq_url) == ("en", "https://hq.example.com")
    finally:
        set_language("zh_CN")


def test_setup_offline_only_needs_no_address(qtbot: QtBot) -> None:
    wizard = SetupWizard(set_language)
    qtbot.addWidget(wizard)
    wizard.offline.setChecked(True)
    assert not wizard.url.isEnabled()
    wizard.next_button.click()
    assert wizard.choice is not None and wizard.choice.hq_url == "" and wizard.choice.language == "zh_CN"
    assert valid_hq_url("https://") == "" and valid_hq_url("http://10.0.0.5:8000/") == "http://10.0.0.5:8000"


def test_first_start_offline_goes_from_setup_to_the_profile(qtbot: QtBot, tmp_path: Path) -> None:
    from PySide6.QtCore import QTimer

    from guide_app.app import Startup, first_start, saved_language
    from guide_app.db.engine import open_database
    from guide_app.tasks import TaskRunner
    from guide_app.views.first_run import FirstRunDialog
    from guide_app.views.theme import QtCatalog

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    db = open_database(tmp_path / "guide.db")
    startup = Startup(db, tmp_path, None)
    runner = TaskRunner()
    seen: list[str] = []

    def answer_profile() -> None:
        dialog = app.activeModalWidget()
        if not isinstance(dialog, FirstRunDialog):
            seen.append(f"expected the profile dialog, got {dialog!r}")
            if dialog is not None:
                dialog.close()
            return
        seen.append(dialog.windowTitle())
        dialog.store_name.setText("Test store")
        dialog.guide_name.setText("Ann")
        dialog.submit()

    def answer_setup() -> None:
        wizard = app.activeModalWidget()
        if not isinstance(wizard, SetupWizard):
            seen.append(f"expected the setup, got {wizard!r}")
            if wizard is not None:
                wizard.close()
            return
        wizard.language.setCurrentIndex(wizard.language.findData("en"))
        wizard.offline.setChecked(True)
        QTimer.singleShot(0, answer_profile)
        wizard.next_button.click()

    QTimer.singleShot(0, answer_setup)
    try:
        actor = first_start(startup, runner, app, QtCatalog(app))
        assert actor is not None and actor.name == "Ann", seen
        assert seen == ["Welcome to Guide Desk"]  # the profile dialog, already in the language picked
        assert saved_language(db) == "en" and startup.sync is None
    finally:
        set_language("zh_CN")
        runner.shutdown()
        db.dispose()


def test_startup_crash_message_and_qt_messages_in_the_log(qtbot: QtBot, tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    from PySide6.QtCore import QTimer, qInstallMessageHandler, qWarning
    from PySide6.QtWidgets import QMessageBox

    from guide_app.views.crash_dialog import install_qt_message_handler, show_startup_crash

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    report = tmp_path / "logs" / "crash-1.txt"
    shown: list[str] = []

    def close_box() -> None:
        box = app.activeModalWidget()
        if isinstance(box, QMessageBox):
            shown.append(box.text())
            next(b for b in box.buttons() if b.text() == "退出程序").click()
        elif box is not None:
            box.close()

    QTimer.singleShot(0, close_box)
    show_startup_crash(report)
    assert len(shown) == 1 and str(report) in shown[0] and "错误报告已保存到" in shown[0]

    reporter = CrashReporter(tmp_path / "logs")
    previous = install_qt_message_handler(reporter)
    try:
        with caplog.at_level("WARNING", logger="qt"):
            qWarning("a Qt warning for the log")
    finally:
        qInstallMessageHandler(previous)  # type: ignore[arg-type]
    assert any(r.name == "qt" and "a Qt warning for the log" in r.getMessage() for r in caplog.records)
    assert reporter.reports == []  # a warning is not a crash


def test_first_start_with_hq_opens_the_sign_in_for_that_address(qtbot: QtBot, tmp_path: Path) -> None:
    from PySide6.QtCore import QTimer

    from guide_app.app import Startup, first_start, saved_language
    from guide_app.db.engine import open_database
    from guide_app.tasks import TaskRunner
    from guide_app.views.login_dialog import LoginDialog
    from guide_app.views.theme import QtCatalog

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    db = open_database(tmp_path / "guide.db")
    startup = Startup(db, tmp_path, None)
    runner = TaskRunner()
    seen: list[str] = []

    def answer_login() -> None:
        dialog = app.activeModalWidget()
        if isinstance(dialog, LoginDialog):
            seen.append(dialog.url.text())
            dialog.reject()  # the guide closes the sign-in: nobody is signed in
        elif dialog is not None:
            dialog.close()

    def answer_setup() -> None:
        wizard = app.activeModalWidget()
        if not isinstance(wizard, SetupWizard):
            if wizard is not None:
                wizard.close()
            return
        wizard.url.setText("https://hq.example.com/")
        QTimer.singleShot(0, answer_login)
        wizard.next_button.click()

    QTimer.singleShot(0, answer_setup)
    try:
        assert first_start(startup, runner, app, QtCatalog(app)) is None
        assert seen == ["https://hq.example.com"]
        assert startup.sync is not None and startup.sync.hq_url == "https://hq.example.com"
        assert saved_language(db) == "zh_CN"
    finally:
        runner.shutdown()
        db.dispose()
