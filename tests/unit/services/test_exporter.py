"""Exporting the customer list to CSV/XLSX, and reading the export back into a fresh book."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from guide_app.db.models import Customer
from guide_app.domain.acquisition import shown_source
from guide_app.domain.errors import UserError
from guide_app.services import exporter
from guide_app.services.context import Actor, AppContext
from guide_app.services.customers import CustomerInput, CustomerService
from guide_app.services.exporter import export_customers
from guide_app.services.import_files import sniff
from guide_app.services.importer import ImportJob, ImportOptions
from guide_app.services.tags import TagService
from tests.unit.services.import_env import GUIDES, ME, STORE, WANG, customers, make_ctx

PEOPLE = [
    CustomerInput(name="张三", phone="13812345678", wechat_id="zs_88", gender="male", birthday="1990-01-02",
                  source="门店自然进店", owner_guide_id=WANG, preferences="蓝色, 宽松", sizes="L",
                  notes="住在朝阳区, 3号楼\n周末来"),
    CustomerInput(name="=HYPERLINK(\"x\")", phone="13912345678", gender="female", owner_guide_id=ME),
    CustomerInput(name="Lee", phone="+1 650-253-0000", notes="-5% 折扣"),
    CustomerInput(name="无手机", wechat_id="wx_only"),
]


def book(tmp: Path) -> tuple[AppContext, list[int]]:
    ctx = make_ctx(tmp, "a.db")
    svc = CustomerService(ctx)
    ids = [svc.create(p) for p in PEOPLE]
    tags = TagService(ctx)
    group = tags.create_group("会员")
    vip, old = tags.create_tag(group, "VIP"), tags.create_tag(group, "老客")
    tags.assign([ids[0], ids[1]], vip)
    tags.assign([ids[0]], old)
    gone = svc.create(CustomerInput(name="已删除", phone="13700000000"))
    svc.delete(gone)
    with ctx.write() as w:
        row = w.session.scalars(select(Customer).where(Customer.id == ids[0])).one()
        row.total_spent_cents, row.order_count = 123456, 3
    with ctx.read() as s:
        pk = {c.id: c.pk for c in s.scalars(select(Customer))}
    # the list view's order, with a deleted customer in it (left out of the file)
    return ctx, [pk[ids[2]], pk[ids[0]], pk[gone], pk[ids[3]], pk[ids[1]]]


def snapshot(ctx: AppContext) -> set[tuple[object, ...]]:
    tags = TagService(ctx)
    names = {t.id: t.name for g in tags.groups(with_counts=False) for t in g.tags}
    out = set()
    for c in customers(ctx):
        # an imported customer keeps the import mark in its stored source (the leaderboards count it apart)
        out.add((c.name, c.phone, c.wechat_id, c.gender, c.birthday, shown_source(c.source), c.preferences, c.sizes, c.notes,
                 GUIDES[c.owner_guide_id], tuple(sorted(names[t] for t in tags.tags_of(c.id)))))
    return out


@pytest.mark.parametrize(("suffix", "lang"), [(".csv", "zh_CN"), (".xlsx", "zh_CN"), (".csv", "en"),
                                              (".xlsx", "en")])
def test_export_then_import_into_a_fresh_book_gives_the_same_customers(
        tmp_path: Path, suffix: str, lang: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exporter, "CHUNK", 2)  # several chunks even for a small list
    ctx, pks = book(tmp_path)
    seen: list[tuple[int, int]] = []
    result = export_customers(ctx, pks, tmp_path / f"客户{suffix}", lang=lang,
                              progress=lambda d, t: seen.append((d, t)))
    assert result.rows == 4 and not result.cancelled
    assert seen[0] == (0, 5) and seen[-1] == (5, 5)
    assert not list(tmp_path.glob("*.part"))

    fresh = make_ctx(tmp_path, "b.db")
    preview = sniff(result.path, ctx=fresh)
    report = ImportJob(fresh, result.path, preview.mapping, ImportOptions(format=preview.format)).run()
    assert (report.imported, report.errors, report.warnings) == (4, [], [])
    assert snapshot(fresh) == snapshot(ctx)


def test_csv_is_excel_friendly(tmp_path: Path) -> None:
    ctx, pks = book(tmp_path)
    path = export_customers(ctx, pks, tmp_path / "c.csv", lang="zh_CN").path
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese right
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:8] == ["姓名", "手机号", "微信号", "性别", "生日", "阶段", "标签", "所属导购"]
    assert [r[0] for r in rows[1:]] == ["Lee", "张三", "无手机", "'=HYPERLINK(\"x\")"]  # list order; no formula
    zs = dict(zip(rows[0], rows[2], strict=True))
    assert zs["手机号"] == "\t13812345678"  # text in Excel, not 1.38123E+10
    assert zs["标签"] == "VIP、老客" and zs["所属导购"] == "王导购" and zs["性别"] == "男"
    assert zs["累计消费（元）"] == "1234.56" and zs["订单数"] == "3" and zs["阶段"] == "新客"
    assert zs["备注"] == "住在朝阳区, 3号楼\n周末来"
    assert dict(zip(rows[0], rows[1], strict=True))["备注"] == "'-5% 折扣"


def test_xlsx_keeps_text_as_text(tmp_path: Path) -> None:
    ctx, pks = book(tmp_path)
    path = export_customers(ctx, pks, tmp_path / "c.xlsx", lang="en").path
    ws = openpyxl.load_workbook(path).worksheets[0]
    assert [c.value for c in ws[1]][:3] == ["Name", "Phone", "WeChat ID"]
    formula_name = ws.cell(row=5, column=1)
    assert formula_name.value == "=HYPERLINK(\"x\")" and formula_name.data_type == "s"
    phone = ws.cell(row=3, column=2)
    assert phone.value == "13812345678" and phone.data_type == "s"
    assert ws.cell(row=2, column=2).value == "+16502530000"
    assert ws.max_row == 5


def test_cancel_leaves_no_file_and_bad_suffix_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exporter, "CHUNK", 2)
    ctx, pks = book(tmp_path)
    for suffix in (".csv", ".xlsx"):
        target = tmp_path / f"x{suffix}"
        result = export_customers(ctx, pks, target, cancelled=lambda: True)
        assert result.cancelled and not target.exists() and not list(tmp_path.glob("*.part"))
    with pytest.raises(UserError) as e:
        export_customers(ctx, pks, tmp_path / "x.pdf")
    assert e.value.key == "export.bad_format"


def test_export_by_ids_and_of_an_empty_list(tmp_path: Path) -> None:
    ctx, _pks = book(tmp_path)
    ids = [c.id for c in customers(ctx)][::-1]
    path = export_customers(ctx, ids, tmp_path / "ids.csv", lang="zh_CN").path
    with path.open(encoding="utf-8-sig", newline="") as fh:
        names = [r[0] for r in csv.reader(fh)][1:]
    assert names == ["无手机", "Lee", "'=HYPERLINK(\"x\")", "张三"]
    empty = export_customers(ctx, [], tmp_path / "empty.xlsx")
    assert empty.rows == 0 and empty.path.exists()


def test_another_guides_personal_tags_are_not_exported(tmp_path: Path) -> None:
    ctx, pks = book(tmp_path)
    wang = AppContext(ctx.db, Actor(WANG, STORE, role="store_manager"))  # exports are for managers
    wang_tags = TagService(wang)
    mine = wang_tags.create_tag(wang_tags.create_group("王的私人标签", scope="personal"), "难缠")
    zs = next(c for c in customers(ctx) if c.name == "张三")
    wang_tags.assign([zs.id], mine)
    with (export_customers(ctx, pks, tmp_path / "me.csv", lang="zh_CN").path
          .open(encoding="utf-8-sig", newline="") as fh):
        assert dict(zip(*list(csv.reader(fh))[0:3:2], strict=True))["标签"] == "VIP、老客"
    with (export_customers(wang, pks, tmp_path / "wang.csv", lang="zh_CN").path
          .open(encoding="utf-8-sig", newline="") as fh):
        assert dict(zip(*list(csv.reader(fh))[0:3:2], strict=True))["标签"] == "VIP、老客、难缠"
