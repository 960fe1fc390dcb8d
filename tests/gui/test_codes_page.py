"""The 活码 page: models pass qtmodeltester, a new code shows "未生效（待同步）" until its outbox row is
acked, bad input is explained in the form, exports (PNG, SVG via QSvgRenderer, PDF) and the print
path decode to the landing URL, and figures from HQ show in a table and a chart."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageDraw
from PySide6.QtCore import QBuffer, QIODevice
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtSvg import QSvgRenderer
from pytestqt.qtbot import QtBot
from sqlalchemy import update

from guide_app.db.engine import open_database
from guide_app.db.models import Guide, Outbox, Store, Tag, TagGroup
from guide_app.db.state import set_state
from guide_app.i18n import set_language
from guide_app.services.code_export import ExportOptions
from guide_app.services.codes import PUBLIC_URL_KEY, CodeInput, CodeService, StatDay, replace_code_stats
from guide_app.services.context import Actor, AppContext
from guide_app.tasks import TaskRunner
from guide_app.views.code_dialog import CodeDialog
from guide_app.views.code_export_dialog import CodeExportDialog
from guide_app.views.codes_model import CodesFilterModel, CodesTableModel, CodeStatsModel
from guide_app.views.codes_page import CodesPage

BASE = "https://hq.example.com"
# the offscreen platform says this whenever a window (our dialogs) is shown; it is not our warning
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture()
def runner(qtbot: QtBot) -> Iterator[TaskRunner]:
    r = TaskRunner()
    yield r
    r.shutdown()


def _ctx(tmp_path: Path, role: str = "guide", guide: str = "g1") -> AppContext:
    db = open_database(tmp_path / "page.db")
    with db.write() as s:
        if s.get(Store, "s1") is None:
            s.add(Store(id="s1", name="悦享·南京西路店"))
            s.add_all([Guide(id="g1", store_id="s1", name="王芳"), Guide(id="g2", store_id="s1", name="李娜"),
                       Guide(id="m1", store_id="s1", name="张店长", role="store_manager")])
            s.add(TagGroup(id="tg", store_id="s1", scope="store", name="来源", field_hlc={}))
            s.flush()
            s.add(Tag(id="t1", group_id="tg", name="柜台客", field_hlc={}))
            set_state(s, PUBLIC_URL_KEY, BASE)
    return AppContext(db, Actor(guide, "s1", role=role, name="王芳" if guide == "g1" else "张店长"))


@pytest.fixture()
def ctx(tmp_path: Path) -> AppContext:
    set_language("zh_CN")
    return _ctx(tmp_path)


def _page(qtbot: QtBot, ctx: AppContext, runner: TaskRunner) -> CodesPage:
    page = CodesPage(ctx, runner)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    qtbot.waitUntil(lambda: page.loads_done > 0)
    return page


def _decode(img: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(img)]


def _qimage_to_pil(image: QImage) -> Image.Image:
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")
    return Image.open(io.BytesIO(bytes(buf.data().data())))


def _logo_file(tmp_path: Path) -> Path:
    img = Image.new("RGB", (200, 200), (230, 60, 30))
    ImageDraw.Draw(img).rectangle((40, 40, 160, 160), fill=(20, 20, 160))
    path = tmp_path / "logo.png"
    img.save(path)
    return path


def test_models_pass_the_model_tester(qtmodeltester, ctx: AppContext) -> None:  # type: ignore[no-untyped-def]
    svc = CodeService(ctx)
    for label in ("柜台", "包裹卡", "海报"):
        svc.create(CodeInput(label=label, channel="counter"))
    model = CodesTableModel()
    model.set_rows(svc.list_codes())
    qtmodeltester.check(model)
    proxy = CodesFilterModel()
    proxy.setSourceModel(model)
    proxy.set_text("包裹")
    qtmodeltester.check(proxy)
    assert proxy.rowCount() == 1
    stats = CodeStatsModel()
    stats.set_days([StatDay("2026-03-01", 9, 3, 2, 1), StatDay("2026-03-02", 0, 0, 0, 0)], None)
    qtmodeltester.check(stats)


def test_create_a_code_and_see_it_pending_until_synced(qtbot: QtBot, ctx: AppContext, runner: TaskRunner,
                                                       tmp_path: Path) -> None:
    page = _page(qtbot, ctx, runner)
    assert page.list_empty.text().startswith("还没有活码")
    page.new_button.click()
    qtbot.waitUntil(lambda: isinstance(page.active_dialog, CodeDialog))
    dialog = page.active_dialog
    assert isinstance(dialog, CodeDialog)

    # a bad form is explained under it, in Chinese, and nothing typed is lost
    dialog.label.setText("")
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.error.isVisible())
    assert dialog.error.text() == "请填写活码名称" and dialog.isVisible()

    dialog.label.setText("柜台二维码")
    dialog.channel.setCurrentIndex(dialog.channel.findData("custom"))
    dialog.custom_channel.setText("小红书")
    dialog.tags.item(0).setCheckState(dialog.tags.item(0).checkState().Checked)
    dialog.welcome.setPlainText("您好，我是您的专属导购王芳")
    dialog.load_logo(_logo_file(tmp_path))
    qtbot.waitUntil(lambda: dialog.logo_clear.isEnabled())
    dialog.submit()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1 and page.current_info() is not None)
    info = page.current_info()
    assert info is not None
    assert info.label == "柜台二维码" and info.channel == "custom:小红书" and info.auto_tag_ids == ("t1",)
    assert info.logo and info.url == f"{BASE}/a/{info.code}"
    state_col = 3
    assert page.proxy.index(0, state_col).data() == "未生效（待同步）"
    assert page.state.text() == "未生效（待同步）"
    assert "同步到总部后" in page.hint.text()
    qtbot.waitUntil(lambda: page.preview.pixmap() is not None and not page.preview.pixmap().isNull())
    assert "自动打标签：柜台客" in page.facts.text() and "欢迎语：您好" in page.facts.text()
    preview = _qimage_to_pil(page.preview.pixmap().toImage())
    assert _decode(preview) == [info.url]

    page.copy_button.click()
    assert QGuiApplication.clipboard().text() == info.url

    with ctx.db.write() as s:  # what sync does once HQ acks the push
        s.execute(update(Outbox).values(status="acked"))
    page.reload()
    qtbot.waitUntil(lambda: page.proxy.index(0, state_col).data() == "已生效")


def test_export_dialog_warns_about_unsynced_codes_and_exports_png(qtbot: QtBot, ctx: AppContext,
                                                                  runner: TaskRunner, tmp_path: Path) -> None:
    cid = CodeService(ctx).create(CodeInput(label="包裹卡", channel="package_card"))
    page = _page(qtbot, ctx, runner)
    page.select_code(cid)
    page.export_button.click()
    dialog = page.active_dialog
    assert isinstance(dialog, CodeExportDialog)
    assert dialog.warning.isVisible() and "尚未同步" in dialog.warning.text()
    assert dialog.size_px.isVisible() and not dialog.poster.isVisible()
    dialog.format.setCurrentIndex(dialog.format.findData("pdf"))
    assert dialog.poster.isVisible() and not dialog.size_px.isVisible() and dialog.path.text().endswith(".pdf")
    dialog.format.setCurrentIndex(dialog.format.findData("png"))
    dialog.size_px.setValue(600)
    target = tmp_path / "out.png"
    dialog.path.setText(str(target))
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: target.exists() and page.status.text().startswith("已导出到"))
    img = Image.open(target)
    assert img.size == (600, 600)
    assert _decode(img) == [page.current_info().url]  # type: ignore[union-attr]


def test_svg_export_renders_with_qt_and_decodes_with_logo(qtbot: QtBot, ctx: AppContext, runner: TaskRunner,
                                                         tmp_path: Path) -> None:
    from guide_app.services.code_render import prepare_logo

    svc = CodeService(ctx)
    cid = svc.create(CodeInput(label="海报", channel="poster", logo=prepare_logo(_logo_file(tmp_path).read_bytes())))
    page = _page(qtbot, ctx, runner)
    info = svc.get(cid)
    target = tmp_path / "code.svg"
    page.export([info], ExportOptions(fmt="svg", size_px=500), target, as_folder=False)
    qtbot.waitUntil(lambda: target.exists())
    renderer = QSvgRenderer(str(target))
    assert renderer.isValid()
    image = QImage(500, 500, QImage.Format.Format_RGB32)
    image.fill(0xFFFFFFFF)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    pil = _qimage_to_pil(image)
    # the logo is really drawn (the centre is its blue square), and the symbol still decodes
    r, g, b = pil.convert("RGB").getpixel((250, 250))  # type: ignore[misc]
    assert b > 120 and r < 80 and g < 80
    assert _decode(pil) == [info.url]


def test_batch_pdf_export_runs_off_the_gui_thread_and_decodes(qtbot: QtBot, tmp_path: Path,
                                                              runner: TaskRunner) -> None:
    set_language("zh_CN")
    ctx = _ctx(tmp_path, role="store_manager", guide="m1")
    svc = CodeService(ctx)
    svc.generate_for_store(CodeInput(label="柜台", channel="counter"))
    page = _page(qtbot, ctx, runner)
    page.scope.setCurrentIndex(1)
    qtbot.waitUntil(lambda: page.model.rowCount() == 3)
    page.table.selectAll()
    infos = page.selected_infos()
    target = tmp_path / "all.pdf"
    page.export(infos, ExportOptions(fmt="pdf", poster="a5"), target, as_folder=False)
    qtbot.waitUntil(lambda: page.last_export == 3)
    subprocess.run(["pdftoppm", "-r", "80", "-png", str(target), str(tmp_path / "pg")], check=True)
    pages = sorted(tmp_path.glob("pg-*.png"))
    assert [_decode(Image.open(p)) for p in pages] == [[i.url] for i in infos]


def test_print_path_paints_decodable_posters(qtbot: QtBot, ctx: AppContext, runner: TaskRunner,
                                             tmp_path: Path) -> None:
    svc = CodeService(ctx)
    ids = [svc.create(CodeInput(label=f"码{i}", channel="counter")) for i in range(2)]
    page = _page(qtbot, ctx, runner)
    infos = [svc.get(i) for i in ids]
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setResolution(300)
    out = tmp_path / "printed.pdf"
    printer.setOutputFileName(str(out))
    page.print_codes(infos, ExportOptions(poster="card"), printer)
    qtbot.waitUntil(lambda: page.last_export == 2)
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(out), str(tmp_path / "pr")], check=True)
    pages = sorted(tmp_path.glob("pr-*.png"))
    assert [_decode(Image.open(p)) for p in pages] == [[i.url] for i in infos]
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "王芳" in text


def test_stats_show_a_table_and_chart_or_an_honest_empty_state(qtbot: QtBot, ctx: AppContext,
                                                               runner: TaskRunner) -> None:
    svc = CodeService(ctx)
    empty = svc.create(CodeInput(label="新码"))
    busy = svc.create(CodeInput(label="老码"))
    with ctx.db.write() as s:
        replace_code_stats(s, busy, [StatDay("2026-03-01", 20, 6, 4, 1), StatDay("2026-03-02", 10, 2, 1, 0)])
    page = _page(qtbot, ctx, runner)
    page.select_code(empty)
    qtbot.waitUntil(lambda: page.stats_view.stack.currentIndex() == 0 and page.stats_view.empty.isVisible())
    assert "暂无统计" in page.stats_view.empty.text()
    page.select_code(busy)
    qtbot.waitUntil(lambda: page.stats_view.stack.currentIndex() == 1)
    m = page.stats_view.model
    assert [m.index(r, 0).data() for r in range(m.rowCount())] == ["2026-03-02", "2026-03-01", "合计"]
    assert m.index(2, 1).data() == 30 and m.index(2, 5).data() == "20%"
    assert len(page.stats_view.chart.series()) == 1
    assert page.proxy.index(page.proxy.rowCount() - 1, 5).data() in (30, 0)


def test_manager_generates_codes_for_the_store_from_the_page(qtbot: QtBot, tmp_path: Path,
                                                             runner: TaskRunner) -> None:
    set_language("zh_CN")
    ctx = _ctx(tmp_path, role="store_manager", guide="m1")
    page = _page(qtbot, ctx, runner)
    assert page.generate_button.isVisible() and page.scope.isVisible()
    page.generate_button.click()
    qtbot.waitUntil(lambda: isinstance(page.active_dialog, CodeDialog))
    dialog = page.active_dialog
    assert isinstance(dialog, CodeDialog)
    dialog.label.setText("3 月包裹卡")
    dialog.channel.setCurrentIndex(dialog.channel.findData("package_card"))
    dialog.has_expiry.setChecked(True)
    dialog.submit()
    qtbot.waitUntil(lambda: page.model.rowCount() == 3)
    assert page.status.text() == "已生成 3 个活码"
    assert sorted(r.label for r in page.model.rows()) == ["张店长 · 3 月包裹卡", "李娜 · 3 月包裹卡", "王芳 · 3 月包裹卡"]
    assert all(r.expires_at is not None and r.expires_at > 0 for r in page.model.rows())


def test_disable_and_enable_from_the_page(qtbot: QtBot, ctx: AppContext, runner: TaskRunner) -> None:
    cid = CodeService(ctx).create(CodeInput(label="柜台"))
    page = _page(qtbot, ctx, runner)
    page.select_code(cid)
    qtbot.waitUntil(lambda: page.disable_button.text() == "停用")
    page.disable_button.click()
    qtbot.waitUntil(lambda: page.proxy.index(0, 3).data() == "已停用")
    qtbot.waitUntil(lambda: page.disable_button.text() == "启用")
    page.disable_button.click()
    qtbot.waitUntil(lambda: page.proxy.index(0, 3).data() == "未生效（待同步）")


def test_mounts_from_the_app_services(qtbot: QtBot, ctx: AppContext, runner: TaskRunner, tmp_path: Path) -> None:
    from guide_app.views.app_services import AppServices

    page = CodesPage.for_app(AppServices(ctx, runner, tmp_path))
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.loads_done > 0)
    assert page.model.rowCount() == 0
    CodeService(ctx).create(CodeInput(label="别处创建"))
    page.reload()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)


def test_english_ui(qtbot: QtBot, ctx: AppContext, runner: TaskRunner) -> None:
    set_language("en")
    try:
        CodeService(ctx).create(CodeInput(label="Counter", expires_on=dt.date.today() + dt.timedelta(days=3)))
        page = _page(qtbot, ctx, runner)
        assert page.proxy.index(0, 3).data() == "Not active yet (waiting to sync)"
        assert page.new_button.text() == "New code"
    finally:
        set_language("zh_CN")
