"""Reading customer files as Excel and WeCom (企业微信) export them: CSV in whatever encoding the
PC wrote, and XLSX. :func:`sniff` looks at a file and proposes how to read and map it;
:func:`iter_records` then streams its rows, each numbered as Excel shows it (header = row 1 when it
is the first row), so an error message points at the row the user sees.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from guide_app.db.state import get_setting, set_setting
from guide_app.domain.errors import UserError
from guide_app.i18n import LANGUAGES, tr
from guide_app.services.context import AppContext
from guide_app.services.import_values import add_gender_words, cell_text

# Customer fields an import column can fill. "owner" is a guide's name; "tags" a list of tag names.
IMPORT_FIELDS = (
    "name", "phone", "wechat_id", "gender", "birthday", "tags", "notes", "source", "sizes", "preferences", "owner",
)
MULTI_FIELDS = frozenset({"tags", "notes"})  # several columns may feed these; their values are joined
PREVIEW_ROWS = 20
MAPPING_KEY_PREFIX = "import.mapping."
CSV_DELIMITERS = (",", "\t", ";", "|")
_CHUNK = 1 << 20
_HEADER_SCAN_ROWS = 10

# Headers of Excel sheets, WeCom customer exports and our own export, by field; within a field the
# first header present wins the suggestion for single-value fields.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "客户姓名", "备注名", "客户名称", "名称", "客户", "昵称", "微信昵称",
             "name", "customer name", "full name", "customer"),
    "phone": ("手机号", "手机", "手机号码", "联系电话", "电话", "备注手机号", "移动电话", "电话号码", "联系方式",
              "mobile", "phone", "phone number", "mobile phone", "mobile number", "tel", "telephone"),
    "wechat_id": ("微信号", "微信", "微信id", "wechat", "wechat id", "weixin"),
    "gender": ("性别", "gender", "sex"),
    "birthday": ("生日", "出生日期", "出生年月日", "birthday", "date of birth", "birth date", "dob"),
    "tags": ("标签", "客户标签", "企业标签", "个人标签", "tags", "tag", "labels"),
    "notes": ("备注", "描述", "说明", "notes", "note", "remark", "remarks", "description"),
    "source": ("来源", "来源渠道", "添加渠道", "渠道", "客户来源", "source", "channel"),
    "sizes": ("尺码", "尺寸", "sizes", "size"),
    "preferences": ("偏好", "喜好", "爱好", "preferences", "preference"),
    "owner": ("所属导购", "添加人", "跟进人", "导购", "负责人", "所属员工", "owner", "guide", "added by"),
}
# Columns we recognise (so they help find the header row) but never import: derived or HQ-owned.
_KNOWN_IGNORED = ("阶段", "累计消费", "订单数", "最近购买", "创建时间", "添加时间", "客户类型", "stage",
                  "created", "created at", "added at")
# the customer form's own labels (domain.json), so our export's headers read back
_FORM_FIELD_KEYS = {"name": "field.name", "phone": "field.phone", "wechat_id": "field.wechat_id",
                    "gender": "field.gender", "birthday": "field.birthday", "source": "field.source",
                    "sizes": "field.sizes", "preferences": "field.preferences", "notes": "field.notes",
                    "owner": "field.owner_guide_id"}
_IGNORED_CATALOG_KEYS = ("field.stage", "field.created_at", "export.col.total_spent", "export.col.order_count",
                         "export.col.last_purchase")
ERROR_COLUMN_KEYS = ("import.col.reason", "import.col.line")  # put first by the error report


def field_label(name: str) -> str:
    """Label of an import target in the UI language ("" = the column is not imported)."""
    return tr(f"import.field.{name or 'ignore'}")


def _norm_header(text: str) -> str:
    """Compare headers loosely: width, case, spaces, required-field stars and (必填)/(选填) notes."""
    t = unicodedata.normalize("NFKC", text).casefold().strip()
    t = re.sub(r"\((?:必填|选填|可选|required|optional)\)", "", t)
    return re.sub(r"[\s*_]+", " ", t).strip(" *")


@cache
def _header_table() -> dict[str, str]:
    """Normalised header → field ("" for known columns that are not imported)."""
    table: dict[str, str] = {}
    for name, words in _SYNONYMS.items():
        for w in words:
            table.setdefault(_norm_header(w), name)
    for lang in LANGUAGES:
        for name in IMPORT_FIELDS:
            for key in (_FORM_FIELD_KEYS.get(name), f"import.field.{name}"):
                if key:
                    table.setdefault(_norm_header(tr(key, lang=lang)), name)
        for key in _IGNORED_CATALOG_KEYS:
            table.setdefault(_norm_header(tr(key, lang=lang)), "")
    for w in _KNOWN_IGNORED:
        table.setdefault(_norm_header(w), "")
    return table


def _register_export_gender_words() -> None:
    words = {tr(f"gender.{g}", lang=lang): g for lang in LANGUAGES for g in ("", "female", "male", "other")}
    add_gender_words(words)


_register_export_gender_words()

ENCODING_LABELS = {
    "utf-8": "UTF-8", "utf-8-sig": "UTF-8 (BOM)", "gb18030": "GBK / GB18030", "utf-16": "UTF-16 (BOM)",
    "utf-16-le": "UTF-16 LE", "utf-16-be": "UTF-16 BE",
}


@dataclass(frozen=True)
class FileFormat:
    """How to read a file: what :func:`sniff` found, adjustable by the user before importing."""

    kind: str  # "csv" | "xlsx"
    encoding: str = ""  # Python codec for CSV
    delimiter: str = ","
    sheet: str = ""  # XLSX sheet title ("" = first sheet)
    header_row: int = 1  # row number (as Excel shows it) of the header
    sep_line: bool = False  # CSV starts with Excel's "sep=;" hint line, which Excel does not show as a row


@dataclass
class ImportPreview:
    path: Path
    format: FileFormat
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # first data rows with their row numbers
    total_rows: int  # data rows after the header (estimated for large CSV files)
    total_is_estimate: bool
    mapping: dict[int, str]  # column index → field in IMPORT_FIELDS (unmapped columns absent)
    mapping_remembered: bool  # the mapping is the one saved for this header signature
    sheets: list[str] = field(default_factory=list)

    @property
    def encoding_label(self) -> str:
        return ENCODING_LABELS.get(self.format.encoding, self.format.encoding)


# -- encoding ---------------------------------------------------------------------------------------

def _decodes(path: Path, encoding: str, skip: int = 0) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as fh:
            fh.seek(skip)
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path) -> str:
    """Python codec for a text file: BOM first, then UTF-16 without BOM (many NULs: ASCII text in
    UTF-16 is also valid UTF-8, so this must come before the UTF-8 check), strict UTF-8 over the
    whole file, then GB18030 (a superset of GBK, what Chinese Excel writes)."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    if not head:
        raise UserError("import.empty_file")
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    nuls = head.count(0)
    if nuls * 10 >= len(head):
        odd = head[1::2].count(0)
        even = head[0::2].count(0)
        candidate = "utf-16-le" if odd >= even else "utf-16-be"
        if _decodes(path, candidate):
            return candidate
    if _decodes(path, "utf-8"):
        return "utf-8"
    if _decodes(path, "gb18030"):
        return "gb18030"
    raise UserError("import.unknown_encoding")


# -- CSV -------------------------------------------------------------------------------------------

csv.field_size_limit(64 * 1024 * 1024)  # a long notes cell must be read (and refused by length), not crash


def _read_text_sample(path: Path, encoding: str, limit: int = 256 * 1024) -> tuple[str, bool]:
    with path.open(encoding=encoding, newline="", errors="strict") as fh:
        text = fh.read(limit)
        complete = fh.read(1) == ""
    return text, complete


def _sep_hint(first_line: str) -> str | None:
    m = re.fullmatch(r'"?sep=(.)"?,*', first_line.strip())
    return m.group(1) if m else None


def sniff_delimiter(sample: str, complete: bool) -> tuple[str, bool]:
    """(delimiter, has sep= line). Picks the delimiter giving the most consistent column count above
    one across the sample's rows; more columns break a tie (a tab-prefixed phone in a comma file)."""
    first_line = sample.split("\n", 1)[0].rstrip("\r")
    hint = _sep_hint(first_line)
    if hint:
        return hint, True
    if not complete:  # drop the last, possibly cut, record
        sample = sample[: max(sample.rfind("\n"), 0)]
    best: tuple[float, int, str] = (0.0, 1, ",")
    for delim in CSV_DELIMITERS:
        counts = [len(r) for r in csv.reader(sample.splitlines(keepends=True), delimiter=delim)
                  if any(c.strip() for c in r)][:200]
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        if mode < 2:
            continue
        score = (counts.count(mode) / len(counts), mode, delim)
        if score[:2] > best[:2]:
            best = score
    return best[2], False


def _text_lines(path: Path, encoding: str) -> Iterator[str]:
    """Lines with their endings. Byte-oriented encodings are decoded line by line (no byte of a
    UTF-8 or GB18030 character is ever \n), so a bad byte stops the reading exactly at its line and
    every line before it is still read."""
    if encoding.startswith("utf-16"):
        with path.open(encoding=encoding, newline="", errors="strict") as fh:
            yield from fh
        return
    with path.open("rb") as fh:
        first = encoding
        rest = "utf-8" if encoding == "utf-8-sig" else encoding
        for raw in fh:
            yield raw.decode(first)
            first = rest


def _iter_csv(path: Path, fmt: FileFormat) -> Iterator[tuple[int, list[str]]]:
    try:
        reader = csv.reader(_text_lines(path, fmt.encoding), delimiter=fmt.delimiter, quotechar='"',
                            doublequote=True, strict=False)
        number = 0
        for i, record in enumerate(reader):
            if i == 0 and fmt.sep_line:
                continue
            number += 1
            yield number, record
    except UnicodeDecodeError as exc:
        raise UserError("import.decode_failed", encoding=ENCODING_LABELS.get(fmt.encoding, fmt.encoding)) from exc
    except csv.Error as exc:
        raise UserError("import.bad_csv", detail=str(exc)) from exc


# -- XLSX ------------------------------------------------------------------------------------------

def _open_workbook(path: Path) -> Any:
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UserError("import.bad_xlsx") from exc


def _pick_sheet(wb: Any, sheet: str) -> Any:
    if not sheet:
        return wb.worksheets[0]
    if sheet not in wb.sheetnames:
        raise UserError("import.no_such_sheet", sheet=sheet)
    return wb[sheet]


def _iter_xlsx(path: Path, fmt: FileFormat) -> Iterator[tuple[int, list[str]]]:
    wb = _open_workbook(path)
    try:
        ws = _pick_sheet(wb, fmt.sheet)
        ws.reset_dimensions()  # some writers (WeCom among them) store a wrong size; read every row there is
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = [cell_text(v) for v in values]
            while cells and cells[-1] == "":
                cells.pop()
            yield number, cells
    finally:
        wb.close()


def _xlsx_size(path: Path, sheet: str) -> tuple[list[str], int | None]:
    wb = _open_workbook(path)
    try:
        ws = _pick_sheet(wb, sheet)
        return list(wb.sheetnames), ws.max_row
    finally:
        wb.close()


# -- common ----------------------------------------------------------------------------------------

def file_kind(path: Path) -> str:
    with path.open("rb") as fh:
        magic = fh.read(8)
    if magic.startswith(b"PK\x03\x04"):
        return "xlsx"
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise UserError("import.old_xls")
    return "csv"


def iter_records(path: Path, fmt: FileFormat) -> Iterator[tuple[int, list[str]]]:
    """Every row of the file (blank rows included, as ``[]``) with its row number as Excel shows it."""
    if fmt.kind == "xlsx":
        return _iter_xlsx(path, fmt)
    return _iter_csv(path, fmt)


def iter_data_rows(path: Path, fmt: FileFormat) -> Iterator[tuple[int, list[str]]]:
    for number, cells in iter_records(path, fmt):
        if number > fmt.header_row:
            yield number, cells


def read_headers(path: Path, fmt: FileFormat) -> list[str]:
    for number, cells in iter_records(path, fmt):
        if number == fmt.header_row:
            return [c.strip() for c in cells]
    raise UserError("import.no_header")


def is_blank(cells: list[str]) -> bool:
    return not any(c.strip() for c in cells)


def find_header_row(records: list[tuple[int, list[str]]]) -> int:
    """The first of the leading rows with at least two known headers (WeCom puts a title row above
    its header); otherwise the first non-blank row."""
    table = _header_table()
    first = 0
    seen = 0
    for number, cells in records:
        if is_blank(cells):
            continue
        first = first or number
        if sum(1 for c in cells if _norm_header(c) in table) >= 2:
            return number
        seen += 1
        if seen >= _HEADER_SCAN_ROWS:
            break
    if not first:
        raise UserError("import.no_header")
    return first


def suggest_mapping(headers: list[str]) -> dict[int, str]:
    """Column index → field from known header names; one column per single-value field (the most
    specific header wins, e.g. 备注名 over 客户名称 for the name), all matching columns for tags/notes."""
    table = _header_table()
    candidates: dict[str, list[tuple[int, int]]] = {}
    for col, header in enumerate(headers):
        norm = _norm_header(header)
        name = table.get(norm, "")
        if not name:
            continue
        words = [_norm_header(w) for w in _SYNONYMS[name]]
        rank = words.index(norm) if norm in words else -1  # our own export's labels rank first
        candidates.setdefault(name, []).append((rank, col))
    mapping: dict[int, str] = {}
    for name, cols in candidates.items():
        chosen = sorted(cols) if name in MULTI_FIELDS else [min(cols)]
        for _rank, col in chosen:
            mapping[col] = name
    return dict(sorted(mapping.items()))


def _error_columns(headers: list[str]) -> int:
    """How many leading columns are the reason/row columns our error report puts first."""
    names = [{_norm_header(tr(k, lang=lang)) for lang in LANGUAGES} for k in ERROR_COLUMN_KEYS]
    n = 0
    while n < len(names) and n < len(headers) and _norm_header(headers[n]) in names[n]:
        n += 1
    return n if n == len(names) else 0


def header_signature(headers: list[str]) -> str:
    """Stable id of a header row, ignoring the reason/row columns of our error report, so a fixed
    error file is read with the mapping of the file it came from."""
    cols = [_norm_header(h) for h in headers[_error_columns(headers):]]
    while cols and cols[-1] == "":
        cols.pop()
    return hashlib.sha1("\x1f".join(cols).encode("utf-8")).hexdigest()[:16]


def mapping_key(headers: list[str]) -> str:
    return MAPPING_KEY_PREFIX + header_signature(headers)


def save_mapping(session: Session, headers: list[str], mapping: dict[int, str]) -> None:
    """Remember ``mapping`` for files with these headers (column indexes without error-report columns)."""
    offset = _error_columns(headers)
    set_setting(session, mapping_key(headers), {
        "headers": headers[offset:],
        "mapping": {str(c - offset): f for c, f in sorted(mapping.items()) if f and c >= offset},
    })


def remembered_mapping(ctx: AppContext, headers: list[str]) -> dict[int, str] | None:
    with ctx.read() as s:
        saved = get_setting(s, mapping_key(headers))
    if not isinstance(saved, dict) or not isinstance(saved.get("mapping"), dict):
        return None
    offset = _error_columns(headers)
    mapping = {}
    for col, name in saved["mapping"].items():
        if str(col).isdigit() and int(col) + offset < len(headers) and name in IMPORT_FIELDS:
            mapping[int(col) + offset] = name
    return mapping


def sniff(path: Path | str, *, sheet: str = "", ctx: AppContext | None = None) -> ImportPreview:
    """Look at a file: encoding, delimiter, header row, the first rows, a row count and a mapping
    (the one remembered for these headers when ``ctx`` is given, else one suggested from them)."""
    path = Path(path)
    if not path.is_file():
        raise UserError("import.no_file", path=str(path))
    kind = file_kind(path)
    sheets: list[str] = []
    if kind == "xlsx":
        sheets, max_row = _xlsx_size(path, sheet)
        fmt = FileFormat("xlsx", sheet=sheet)
        head = _take(iter_records(path, fmt), _HEADER_SCAN_ROWS + PREVIEW_ROWS + 1)
    else:
        encoding = detect_encoding(path)
        sample, complete = _read_text_sample(path, encoding)
        delimiter, sep_line = sniff_delimiter(sample, complete)
        fmt = FileFormat("csv", encoding=encoding, delimiter=delimiter, sep_line=sep_line)
        head = _take(iter_records(path, fmt), _HEADER_SCAN_ROWS + PREVIEW_ROWS + 1)
    header_row = find_header_row(head)
    fmt = replace(fmt, header_row=header_row)
    headers = next(([c.strip() for c in cells] for n, cells in head if n == header_row), [])
    rows = [(n, cells) for n, cells in head if n > header_row][:PREVIEW_ROWS]
    if kind == "xlsx":
        total, estimate = max((max_row or 0) - header_row, len(rows)), True
    else:
        total, estimate = _count_csv_rows(path, fmt, sample, complete)
    remembered = remembered_mapping(ctx, headers) if ctx is not None else None
    return ImportPreview(
        path=path, format=fmt, headers=headers, rows=rows, total_rows=total, total_is_estimate=estimate,
        mapping=remembered if remembered is not None else suggest_mapping(headers),
        mapping_remembered=remembered is not None, sheets=sheets,
    )


def _take(it: Iterator[tuple[int, list[str]]], n: int) -> list[tuple[int, list[str]]]:
    out = []
    for item in it:
        out.append(item)
        if len(out) >= n:
            break
    if hasattr(it, "close"):
        it.close()
    return out


def _count_csv_rows(path: Path, fmt: FileFormat, sample: str, complete: bool) -> tuple[int, bool]:
    if complete:
        return count_data_rows(path, fmt), False
    in_sample = sum(1 for _ in csv.reader(sample.splitlines(keepends=True), delimiter=fmt.delimiter))
    sample_bytes = max(len(sample.encode(fmt.encoding.replace("-sig", ""), errors="replace")), 1)
    return max(int(path.stat().st_size * in_sample / sample_bytes) - fmt.header_row, 0), True


def estimate_data_rows(path: Path, fmt: FileFormat) -> int:
    """Rows after the header: counted for CSV, from the sheet's stored size for XLSX (a full count
    would mean parsing the sheet twice)."""
    if fmt.kind == "xlsx":
        return max((_xlsx_size(path, fmt.sheet)[1] or 0) - fmt.header_row, 0)
    return count_data_rows(path, fmt)


def count_data_rows(path: Path, fmt: FileFormat) -> int:
    """Exact number of rows after the header (a fast pass: nothing is parsed into customers)."""
    count = 0
    for _ in iter_data_rows(path, fmt):
        count += 1
    return count
