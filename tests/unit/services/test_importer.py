"""Importing customer files into a real store book: counts, line numbers, merging, batches, cancel."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select, text

from guide_app.db.models import Customer, CustomerHistory, CustomerTag, Outbox, Tag, TagGroup
from guide_app.domain.errors import UserError
from guide_app.i18n import set_language
from guide_app.services.customers import CustomerInput, CustomerService
from guide_app.services.import_files import sniff
from guide_app.services.import_tags import IMPORT_TAG_GROUP
from guide_app.services.importer import ImportJob, ImportOptions, ImportReport, write_error_report
from guide_app.services.tags import TagService
from tests.unit.services.import_env import ME, WANG, count, customer_outbox_ids, customers, make_ctx

HEADER = "姓名,手机号,性别,生日,标签,备注,所属导购,微信号"
LONG_NAME = "名" * 10_000
MESSY_ROWS = [
    '张三,138 1234 5678,男,1990-01-02,VIP、老客,"住在朝阳区, 3号楼\r\n喜欢蓝色",王导购,',  # 2 (two lines in the file)
    "",                                                                       # 3 blank
    "李四,１３９１２３４５６７８,女,1991/2/3,VIP,,王导购,",                    # 4 full-width digits
    "王五,+86 137-1234-5678,,1992年3月4日,,,,",                                # 5
    "赵六,12345,男,,,,,",                                                     # 6 bad phone
    ",13600000001,女,,,,,",                                                   # 7 empty name
    f"{LONG_NAME},13600000002,,,,,,",                                         # 8 10 KB name
    "张三丰,13812345678,,,新客,,,wx_zs",                                       # 9 same phone as row 2
    "老客户2,+86-135-0013-5000,女,,,导入的备注,李导购,wx_old",                  # 10 phone already in the book
    "钱七,1.3612345678E+10,男,19930405,,,,",                                   # 11 Excel float phone
    "孙八,13612345679.0,女,33000,,,,",                                         # 12 Excel date serial
    "周九,13712345670,女,1990-13-45,,,,",                                      # 13 bad date
    "吴十,13712345671,男,1990-01-02,,,,,多出来的",                              # 14 too many columns
    "郑十一,13712345672,女",                                                  # 15 too few columns
    "李四,13912345678,女,,VIP,,,",                                            # 16 nothing new: skipped
    "冯十二,1.38123E+10,男,,,,,",                                              # 17 digits rounded away by Excel
]
ERROR_LINES = [6, 7, 8, 13, 14, 15, 17]


@pytest.fixture(autouse=True)
def _zh() -> Iterator[None]:
    set_language("zh_CN")
    yield
    set_language("zh_CN")


def messy_gbk(tmp: Path) -> Path:
    path = tmp / "客户.csv"
    path.write_bytes(("\r\n".join([HEADER, *MESSY_ROWS]) + "\r\n").encode("gbk"))
    return path


def run(ctx, path: Path, **opts) -> ImportReport:  # type: ignore[no-untyped-def]
    preview = sniff(path, ctx=ctx)
    return ImportJob(ctx, path, preview.mapping, ImportOptions(format=preview.format, **opts)).run()


def test_messy_gbk_file(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    vip_group = TagService(ctx).create_group("会员")
    TagService(ctx).create_tag(vip_group, "VIP")
    book_id = CustomerService(ctx).create(CustomerInput(name="老客户", phone="13500135000", notes="只穿黑色",
                                                        owner_guide_id=WANG))
    path = messy_gbk(tmp_path)
    preview = sniff(path, ctx=ctx)
    assert preview.format.encoding == "gb18030" and preview.encoding_label == "GBK / GB18030"
    assert preview.total_rows == 16 and not preview.total_is_estimate
    assert preview.mapping == {0: "name", 1: "phone", 2: "gender", 3: "birthday", 4: "tags", 5: "notes",
                               6: "owner", 7: "wechat_id"}

    report = ImportJob(ctx, path, preview.mapping, ImportOptions(format=preview.format)).run()

    assert (report.imported, report.merged, report.skipped) == (5, 2, 1)
    assert [e.line for e in report.errors] == ERROR_LINES
    keys = {e.line: e.key for e in report.errors}
    assert keys == {6: "phone.invalid", 7: "customer.name_required", 8: "customer.field_too_long",
                    13: "import.bad_birthday", 14: "import.too_many_columns", 15: "import.too_few_columns",
                    17: "import.phone_rounded"}
    by_line = {e.line: e for e in report.errors}
    assert "姓名" in by_line[8].reason and "60" in by_line[8].reason  # field named in the UI language
    assert len(by_line[8].excerpt) < 200 and by_line[8].cells[1] == "13600000002"
    assert "1990-13-45" in by_line[13].reason
    assert not report.cancelled and report.finished and report.last_line == 17
    assert "新增 5 位客户" in report.summary()

    rows = {c.phone: c for c in customers(ctx)}
    assert len(rows) == 6  # the book's one + five new; no second record for a duplicate phone
    zs = rows["+8613812345678"]
    assert zs.name == "张三"  # the first row wins; the later name is kept in history, not lost
    assert zs.notes == "住在朝阳区, 3号楼\n喜欢蓝色" and zs.owner_guide_id == WANG
    assert zs.wechat_id == "wx_zs" and zs.gender == "male" and zs.birthday == "1990-01-02"
    assert rows["+8613912345678"].birthday == "1991-02-03"
    assert rows["+8613712345678"].birthday == "1992-03-04" and rows["+8613712345678"].owner_guide_id == ME
    assert rows["+8613612345678"].name == "钱七" and rows["+8613612345678"].birthday == "1993-04-05"
    assert rows["+8613612345679"].birthday == "1990-05-07"

    old = rows["+8613500135000"]
    assert old.id == book_id and old.name == "老客户" and old.notes == "只穿黑色"  # typed data kept
    assert old.owner_guide_id == WANG  # an import never moves a customer to another guide
    assert old.gender == "female" and old.wechat_id == "wx_old"  # empty fields filled

    with ctx.read() as s:
        conflicts = {(h.field, h.old_value, h.new_value) for h in s.scalars(
            select(CustomerHistory).where(CustomerHistory.kind == "conflict"))}
        imported_history = s.scalars(select(CustomerHistory).where(
            CustomerHistory.customer_id == zs.id, CustomerHistory.kind == "import")).all()
        tag_names = {cid: sorted(n for n, in s.execute(
            select(Tag.name).join(CustomerTag, CustomerTag.tag_id == Tag.id)
            .where(CustomerTag.customer_id == cid, CustomerTag.active.is_(True))))
            for cid in (zs.id, rows["+8613912345678"].id)}
        import_group = s.scalars(select(TagGroup).where(TagGroup.name == IMPORT_TAG_GROUP)).one()
        created = sorted(s.scalars(select(Tag.name).where(Tag.group_id == import_group.id)))
    assert conflicts == {("name", "张三丰", "张三"), ("name", "老客户2", "老客户"), ("notes", "导入的备注", "只穿黑色")}
    assert {h.field for h in imported_history} >= {"name", "phone", "notes", "wechat_id"}
    assert tag_names[zs.id] == ["VIP", "新客", "老客"] and tag_names[rows["+8613912345678"].id] == ["VIP"]
    assert import_group.scope == "store" and created == ["新客", "老客"] and report.tags_created == 2
    # every customer row has its outbox mutation
    assert customer_outbox_ids(ctx) == {c.id for c in customers(ctx)}


def test_error_report_can_be_fixed_and_imported_again_with_the_same_mapping(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    report = run(ctx, messy_gbk(tmp_path))
    out = write_error_report(report, tmp_path / "errors.csv")
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    with out.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0] == ["错误原因", "原行号", *HEADER.split(",")]
    assert [r[1] for r in table[1:]] == [str(n) for n in ERROR_LINES]
    assert table[1][2] == "赵六" and table[1][0] == report.errors[0].reason
    assert table[1][2:] == report.errors[0].cells  # the row exactly as it was

    table[1][3] = "13600000006"  # the user fixes 赵六's phone
    table[2][2] = "无名氏"  # and gives row 7 a name
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(table)
    preview = sniff(out, ctx=ctx)
    assert preview.mapping_remembered  # the leading reason/row columns are left out
    assert preview.mapping == {2: "name", 3: "phone", 4: "gender", 5: "birthday", 6: "tags", 7: "notes",
                               8: "owner", 9: "wechat_id"}
    again = ImportJob(ctx, out, preview.mapping, ImportOptions(format=preview.format)).run()
    assert again.imported == 2
    # still wrong: the long name, the bad date, the long and the short row, the rounded phone
    assert [(e.line, e.key) for e in again.errors] == [
        (4, "customer.field_too_long"), (5, "import.bad_birthday"), (6, "import.too_many_columns"),
        (7, "import.too_few_columns"), (8, "import.phone_rounded")]
    assert {c.name for c in customers(ctx)} >= {"赵六", "无名氏"}


def test_excel_unicode_text_utf16_tab_file(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    path = tmp_path / "unicode.txt"
    path.write_text("姓名\t手机\t性别\r\n张三\t13812345678\t男\r\n李四\t13912345678\t女\r\n", encoding="utf-16")
    report = run(ctx, path)
    assert (report.imported, report.errors) == (2, [])
    assert sorted(c.name for c in customers(ctx)) == ["张三", "李四"]


def test_xlsx_import_with_title_row_float_phone_and_excel_dates(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["企业微信客户导出"])
    ws.append(["客户名称", "备注名", "手机号", "性别", "出生日期", "企业标签", "添加人"])
    ws.append(["xiaozhang", "张三", 13812345678.0, "男", dt.datetime(1990, 1, 2), "VIP|老客", "王导购"])
    ws.append(["nick", "", "13912345678", "女", "1991年2月3日", "", "不存在的人"])
    ws.append(["李四的昵称", "李四", 13912345678, "未知", None, "VIP", ""])
    path = tmp_path / "wecom.xlsx"
    wb.save(path)

    report = run(ctx, path)

    assert (report.imported, report.merged, report.skipped) == (2, 0, 0)
    assert [(e.line, e.key) for e in report.errors] == [(4, "customer.name_required")]
    rows = {c.phone: c for c in customers(ctx)}
    zs, ls = rows["+8613812345678"], rows["+8613912345678"]
    assert (zs.name, zs.birthday, zs.gender, zs.owner_guide_id) == ("张三", "1990-01-02", "male", WANG)
    assert (ls.name, ls.gender, ls.owner_guide_id) == ("李四", "", ME)  # 备注名 beats the nickname
    with ctx.read() as s:
        names = sorted(s.scalars(select(Tag.name).join(CustomerTag, CustomerTag.tag_id == Tag.id)
                                 .where(CustomerTag.customer_id == zs.id)))
    assert names == ["VIP", "老客"]


def test_cancel_leaves_only_whole_batches(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    path = tmp_path / "many.csv"
    path.write_text("姓名,手机\n" + "".join(f"客户{i},1381234{i:04d}\n" for i in range(95)), encoding="utf-8")
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))

    preview = sniff(path)
    job = ImportJob(ctx, path, preview.mapping, ImportOptions(format=preview.format, batch_size=10))
    report = job.run(progress, cancelled=lambda: len(seen) >= 3)  # after two committed batches

    assert report.cancelled and not report.finished
    assert seen == [(0, 95), (10, 95), (20, 95)]
    assert report.imported == 20 and report.last_line == 21
    assert [c.name for c in customers(ctx)] == [f"客户{i}" for i in range(20)]
    assert count(ctx, Customer) == 20
    with ctx.read() as s:
        assert len(s.scalars(select(Outbox).where(Outbox.entity == "customer")).all()) == 20
    assert customer_outbox_ids(ctx) == {c.id for c in customers(ctx)}
    assert "第 21 行" in report.summary()

    # importing the whole file again merges nothing twice and lands the rest
    rest = ImportJob(ctx, path, preview.mapping, ImportOptions(format=preview.format, batch_size=10)).run()
    assert (rest.imported, rest.skipped, rest.errors) == (75, 20, [])
    assert count(ctx, Customer) == 95


def test_mapping_is_remembered_per_header_signature(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    path = tmp_path / "own.csv"
    path.write_text("会员,号码,城市\n张三,13812345678,上海\n", encoding="utf-8")
    first = sniff(path, ctx=ctx)
    assert first.mapping == {} and not first.mapping_remembered
    ImportJob(ctx, path, {0: "name", 1: "phone", 2: "notes"}, ImportOptions(format=first.format)).run()
    again = sniff(path, ctx=ctx)
    assert again.mapping_remembered and again.mapping == {0: "name", 1: "phone", 2: "notes"}
    assert not sniff(path).mapping_remembered  # without a book nothing is remembered
    assert customers(ctx)[0].notes == "上海"


def test_name_column_is_required_and_unknown_guides_are_warned(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    path = tmp_path / "g.csv"
    path.write_text("姓名,手机,导购\n张三,13812345678,离职的人\n", encoding="utf-8")
    with pytest.raises(UserError) as e:
        ImportJob(ctx, path, {1: "phone"})
    assert e.value.key == "import.name_not_mapped"
    report = run(ctx, path)
    assert report.imported == 1
    assert [(w.line, w.key) for w in report.warnings] == [(2, "import.unknown_guide")]
    assert "离职的人" in report.warnings[0].reason
    assert customers(ctx)[0].owner_guide_id == ME


def test_wechat_id_dedupes_rows_without_a_phone(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    CustomerService(ctx).create(CustomerInput(name="张三", wechat_id="ZhangSan88"))
    path = tmp_path / "w.csv"
    path.write_text("姓名,微信号,尺码\n张三,zhangsan88,L\n王五,,M\n王五,,M\n", encoding="utf-8")
    report = run(ctx, path)
    assert (report.imported, report.merged) == (2, 1)  # two 王五 without phone or WeChat cannot be matched
    zs = next(c for c in customers(ctx) if c.name == "张三")
    assert zs.sizes == "L" and zs.wechat_id == "ZhangSan88"


def test_single_select_group_keeps_the_customers_tag(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    tags = TagService(ctx)
    level = tags.create_group("会员等级", multi=False)
    gold = tags.create_tag(level, "金卡")
    tags.create_tag(level, "银卡")
    cid = CustomerService(ctx).create(CustomerInput(name="张三", phone="13812345678"))
    tags.assign([cid], gold)
    path = tmp_path / "t.csv"
    path.write_text("姓名,手机,标签\n张三,13812345678,银卡\n", encoding="utf-8")
    report = run(ctx, path)
    assert (report.merged, report.skipped) == (0, 1)
    assert [w.key for w in report.warnings] == ["import.single_select_kept"]
    assert "金卡" in report.warnings[0].reason
    assert tags.tags_of(cid) == [gold]


def test_reasons_follow_the_ui_language(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    path = tmp_path / "e.csv"
    path.write_text("name,phone\n,13812345678\n", encoding="utf-8")
    set_language("en")
    report = run(ctx, path)
    assert report.errors[0].reason == "Please enter the customer's name"
    assert report.summary().startswith("0 new customers")


def test_a_file_unreadable_halfway_keeps_the_rows_before(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    path = tmp_path / "half.csv"
    path.write_bytes("name,phone\r\nZhang,13812345678\r\nLi,13912345678\r\n王五,13712345678\r\n".encode("gbk"))
    fmt = replace(sniff(path).format, encoding="utf-8")  # the user forced the wrong encoding
    report = ImportJob(ctx, path, {0: "name", 1: "phone"}, ImportOptions(format=fmt)).run()
    assert report.imported == 2 and not report.finished
    assert "UTF-8" in report.stopped_reason and report.stopped_reason in report.summary()
    assert sorted(c.name for c in customers(ctx)) == ["Li", "Zhang"]


def test_rows_of_one_batch_find_what_earlier_rows_of_it_wrote(tmp_path: Path) -> None:
    """Inside a batch nothing is in the database yet: look-ups by phone, WeChat id and tag are kept in
    memory and must answer as the database would (WeChat: the lowest pk of the live customers)."""
    ctx = make_ctx(tmp_path)
    tags = TagService(ctx)
    level = tags.create_group("会员等级", multi=False)
    tags.create_tag(level, "金卡")
    tags.create_tag(level, "银卡")
    old_id = CustomerService(ctx).create(CustomerInput(name="老王", phone="13812345678"))
    path = tmp_path / "b.csv"
    path.write_text(
        "姓名,手机,微信号,尺码,标签\n"
        "新人,,wx_x,,\n"           # 2 new, WeChat only
        "老王,13812345678,WX_X,,\n"  # 3 fills the book customer's WeChat: it now has the lowest pk for wx_x
        "某人,,wx_x,XL,金卡\n"       # 4 matches 老王 (not 新人), fills sizes, gets 金卡
        "某人,,Wx_X,,银卡\n"        # 5 single-select: 金卡 given two rows earlier is kept
        "李四,,wx_li,L,VIP\n"       # 6 new
        "李四,,wx_li,M,VIP\n",      # 7 same customer: sizes kept (conflict), VIP already given
        encoding="utf-8")
    report = run(ctx, path)
    assert (report.imported, report.merged, report.skipped) == (2, 2, 2)
    assert [(w.line, w.key) for w in report.warnings] == [(5, "import.single_select_kept")]
    rows = {c.name: c for c in customers(ctx)}
    assert set(rows) == {"新人", "老王", "李四"}
    assert rows["老王"].id == old_id and rows["老王"].wechat_id == "WX_X" and rows["老王"].sizes == "XL"
    assert rows["李四"].sizes == "L"
    with ctx.read() as s:
        tag_rows = s.execute(select(Tag.name, CustomerTag.customer_id, CustomerTag.active)
                             .join(CustomerTag, CustomerTag.tag_id == Tag.id)).all()
        conflicts = s.execute(select(CustomerHistory.field, CustomerHistory.old_value)
                              .where(CustomerHistory.kind == "conflict")).all()
        search = {int(pk): str(w) for pk, w in s.execute(text("SELECT pk, wechat FROM customer_search"))}
        outbox = s.scalars(select(Outbox.entity).order_by(Outbox.device_seq)).all()
    assert sorted((n, c, a) for n, c, a in tag_rows) == sorted(
        [("金卡", old_id, True), ("VIP", rows["李四"].id, True)])
    assert ("sizes", "M") in conflicts and ("name", "某人") in conflicts
    assert search == {c.pk: c.wechat_id.lower() for c in rows.values()}
    # after the group, its two tags and 老王: 新人, 老王's WeChat, 老王's sizes, 金卡 on him, 李四, the import
    # tag group and its VIP tag, VIP on 李四
    assert outbox[4:] == ["customer", "customer", "customer", "customer_tag", "customer", "tag_group", "tag",
                          "customer_tag"]


def test_search_keys_of_imported_customers_point_at_their_rows(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    CustomerService(ctx).create(CustomerInput(name="已有", phone="13700000000"))
    path = tmp_path / "k.csv"
    path.write_text("姓名,手机\n" + "".join(f"客户{i},1381234{i:04d}\n" for i in range(25)), encoding="utf-8")
    preview = sniff(path)
    ImportJob(ctx, path, preview.mapping, ImportOptions(format=preview.format, batch_size=7)).run()
    with ctx.read() as s:
        pairs = s.execute(text("SELECT c.name, s.name, s.phone_digits, c.phone FROM customer c "
                               "JOIN customer_search s ON s.pk = c.pk")).all()
        fts = s.execute(text("SELECT c.name FROM customer_fts f JOIN customer c ON c.pk = f.rowid "
                             "WHERE customer_fts MATCH :q"), {"q": '"13812340017"'}).scalars().all()
    assert len(pairs) == 26 and all(a == b and c == d[3:] for a, b, c, d in pairs)
    assert fts == ["客户17"]


def test_an_import_gives_back_a_tag_that_was_taken_off(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    tags = TagService(ctx)
    vip = tags.create_tag(tags.create_group("会员"), "VIP")
    cid = CustomerService(ctx).create(CustomerInput(name="张三", phone="13812345678"))
    tags.assign([cid], vip)
    tags.unassign([cid], vip)
    path = tmp_path / "t.csv"
    path.write_text("姓名,手机,标签\n张三,13812345678,VIP\n张三,13812345678,VIP\n", encoding="utf-8")
    report = run(ctx, path)
    assert (report.merged, report.skipped) == (1, 1)  # the second row finds it already given back
    assert tags.tags_of(cid) == [vip]
    with ctx.read() as s:
        row = s.scalars(select(CustomerTag).where(CustomerTag.customer_id == cid)).one()
        last = s.scalars(select(Outbox).order_by(Outbox.device_seq.desc())).first()
    assert row.active and (row.added_hlc or "") > (row.removed_hlc or "")
    assert last is not None and last.entity == "customer_tag" and set(last.fields) == {"added_hlc"}
