"""Reading import files: encodings, delimiters, header rows, Excel number and date quirks."""

from __future__ import annotations

import codecs
import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from guide_app.domain.errors import UserError
from guide_app.services.import_files import (
    detect_encoding,
    header_signature,
    iter_records,
    sniff,
    suggest_mapping,
)
from guide_app.services.import_values import (
    cell_text,
    parse_birthday,
    parse_gender,
    parse_phone,
    split_tags,
)

ROWS = "姓名,手机号,标签\r\n张三,13812345678,VIP、老客\r\n李四,13912345678,\r\n"


def write(tmp: Path, name: str, data: bytes) -> Path:
    p = tmp / name
    p.write_bytes(data)
    return p


@pytest.mark.parametrize(("data", "expected"), [
    (codecs.BOM_UTF8 + ROWS.encode("utf-8"), "utf-8-sig"),
    (ROWS.encode("utf-16"), "utf-16"),  # Python writes LE with a BOM, as Excel's "Unicode text"
    (codecs.BOM_UTF16_BE + ROWS.encode("utf-16-be"), "utf-16"),
    (ROWS.encode("utf-16-le"), "utf-16-le"),
    (ROWS.encode("utf-16-be"), "utf-16-be"),
    (ROWS.encode("utf-8"), "utf-8"),
    (ROWS.encode("gbk"), "gb18030"),
    # 𠮷 and € are outside GBK: only GB18030 (4-byte / extended) can hold them
    ((ROWS + "𠮷野家,13612345678,€\r\n").encode("gb18030"), "gb18030"),
])
def test_encoding_is_detected_and_the_file_reads_back(tmp_path: Path, data: bytes, expected: str) -> None:
    path = write(tmp_path, "c.csv", data)
    assert detect_encoding(path) == expected
    preview = sniff(path)
    assert preview.headers == ["姓名", "手机号", "标签"]
    assert preview.rows[0] == (2, ["张三", "13812345678", "VIP、老客"])
    assert preview.mapping == {0: "name", 1: "phone", 2: "tags"}


def test_gbk_text_is_not_mistaken_for_utf8_even_late_in_the_file(tmp_path: Path) -> None:
    text = "name,phone\r\n" + "".join(f"a{i},1380000{i:04d}\r\n" for i in range(5000)) + "王五,13700000000\r\n"
    path = write(tmp_path, "late.csv", text.encode("gbk"))
    assert detect_encoding(path) == "gb18030"


def test_empty_and_undecodable_files_are_refused_with_a_message(tmp_path: Path) -> None:
    with pytest.raises(UserError) as e:
        sniff(write(tmp_path, "e.csv", b""))
    assert e.value.key == "import.empty_file"
    with pytest.raises(UserError) as e:
        sniff(write(tmp_path, "x.csv", b"a,b\r\n\x80\xff\x80\xff,1\r\n"))
    assert e.value.key == "import.unknown_encoding"
    with pytest.raises(UserError) as e:
        sniff(write(tmp_path, "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100))
    assert e.value.key == "import.old_xls"


@pytest.mark.parametrize(("delim", "extra"), [(",", ""), ("\t", ""), (";", ""), (";", "sep=;\r\n")])
def test_delimiter_is_sniffed(tmp_path: Path, delim: str, extra: str) -> None:
    rows = [["姓名", "手机", "备注"], ["张三", "13812345678", "a, b"], ["李四", "13912345678", "c"]]
    lines = [delim.join(f'"{c}"' if "," in c or ";" in c else c for c in r) for r in rows]
    path = write(tmp_path, "d.csv", (extra + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    preview = sniff(path)
    assert preview.format.delimiter == delim
    assert preview.headers == ["姓名", "手机", "备注"]
    assert preview.rows[0] == (2, ["张三", "13812345678", "a, b"])  # a sep= line is not a row in Excel either


def test_wecom_title_row_above_the_header_is_skipped_and_rows_keep_their_excel_numbers(tmp_path: Path) -> None:
    text = "客户列表导出（2026-03-01）\r\n\r\n客户名称,备注名,添加人,添加时间,企业标签,个人标签,描述\r\n小张,张三,王导购,2026-01-01,VIP,老客,爱跑步\r\n"
    preview = sniff(write(tmp_path, "wecom.csv", text.encode("utf-8-sig")))
    assert preview.format.header_row == 3
    assert preview.rows == [(4, ["小张", "张三", "王导购", "2026-01-01", "VIP", "老客", "爱跑步"])]
    # 备注名 (the guide's remark name) beats the WeChat nickname; both tag columns feed tags
    assert preview.mapping == {1: "name", 2: "owner", 4: "tags", 5: "tags", 6: "notes"}


def test_header_suggestions_cover_excel_and_english_headers() -> None:
    headers = ["*客户姓名", "手机号码(必填)", "微信", "性别", "出生日期", "客户标签", "备注", "添加渠道", "尺码",
               "偏好", "跟进人", "城市"]
    assert suggest_mapping(headers) == {0: "name", 1: "phone", 2: "wechat_id", 3: "gender", 4: "birthday",
                                        5: "tags", 6: "notes", 7: "source", 8: "sizes", 9: "preferences",
                                        10: "owner"}
    assert suggest_mapping(["Name", "Mobile", "Date of birth", "Tags"]) == {0: "name", 1: "phone",
                                                                             2: "birthday", 3: "tags"}


def test_signature_ignores_the_error_report_columns() -> None:
    assert header_signature(["姓名", "手机"]) == header_signature(["错误原因", "原行号", "姓名", "手机"])
    assert header_signature(["姓名", "手机"]) == header_signature(["Error", "Original row", "姓名", "手机"])
    assert header_signature(["姓名", "手机"]) != header_signature(["错误原因", "姓名", "手机"])
    assert header_signature(["姓名", "手机"]) != header_signature(["手机", "姓名"])


def test_xlsx_numbers_dates_and_sheet_choice(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "说明"
    ws["A1"] = "这张表不是数据"
    data = wb.create_sheet("客户")
    data.append(["姓名", "手机", "生日"])
    data.append(["张三", 13812345678.0, dt.datetime(1990, 1, 2)])
    data.cell(row=2, column=2).number_format = "0.00E+00"  # shown as 1.38E+10 in Excel
    data.append([])
    data.append(["李四", 13912345678, "1991/2/3"])
    path = tmp_path / "c.xlsx"
    wb.save(path)
    preview = sniff(path, sheet="客户")
    assert preview.sheets == ["说明", "客户"]
    assert preview.headers == ["姓名", "手机", "生日"]
    assert preview.rows == [(2, ["张三", "13812345678", "1990-01-02"]), (3, []),
                            (4, ["李四", "13912345678", "1991/2/3"])]
    records = list(iter_records(path, preview.format))
    assert records[0] == (1, ["姓名", "手机", "生日"]) and len(records) == 4
    with pytest.raises(UserError) as e:
        sniff(path, sheet="没有")
    assert e.value.key == "import.no_such_sheet"


@pytest.mark.parametrize(("raw", "e164"), [
    ("138 1234 5678", "+8613812345678"), ("138-1234-5678", "+8613812345678"),
    ("+86 138 1234 5678", "+8613812345678"), ("8613812345678", "+8613812345678"),
    ("１３８１２３４５６７８", "+8613812345678"), ("13812345678.0", "+8613812345678"),
    ("1.3812345678E+10", "+8613812345678"), ('="13812345678"', "+8613812345678"),
    ("'13812345678", "+8613812345678"), ("\t13812345678", "+8613812345678"), ("", ""),
])
def test_phone_cells(raw: str, e164: str) -> None:
    assert parse_phone(raw) == e164


@pytest.mark.parametrize(("raw", "key"), [
    ("1.38123E+10", "import.phone_rounded"), ("1234", "phone.too_short"), ("12345", "phone.invalid"), ("abc", "phone.too_short"),
    ("12345678901", "phone.invalid"),
])
def test_bad_phone_cells(raw: str, key: str) -> None:
    with pytest.raises(UserError) as e:
        parse_phone(raw)
    assert e.value.key == key


@pytest.mark.parametrize("raw", ["1990-01-02", "1990/1/2", "1990年1月2日", "1990.01.02", "19900102",
                                 "1990-01-02 00:00:00", "１９９０－０１－０２", "32875"])
def test_birthday_formats(raw: str) -> None:
    assert parse_birthday(raw, today=dt.date(2026, 1, 1)) == "1990-01-02"


@pytest.mark.parametrize("raw", ["1990-13-01", "1990-02-30", "02-03", "next week", "2030-01-01", "1800-01-01"])
def test_bad_birthdays(raw: str) -> None:
    with pytest.raises(UserError) as e:
        parse_birthday(raw, today=dt.date(2026, 1, 1))
    assert e.value.key == "import.bad_birthday"


def test_gender_and_tag_words() -> None:
    assert [parse_gender(g) for g in ("男", "女", "未知", "", "Female", "M", "未填")] == [
        "male", "female", "", "", "female", "male", ""]
    with pytest.raises(UserError):
        parse_gender("猫")
    assert split_tags("VIP, 老客，新客;a；b、c|VIP") == ["VIP", "老客", "新客", "a", "b", "c"]
    assert cell_text(13812345678.0) == "13812345678" and cell_text(12.5) == "12.5"
    assert cell_text(dt.datetime(1990, 1, 2, 8, 30)) == "1990-01-02 08:30:00"
