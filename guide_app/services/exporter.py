"""Exporting a list of customers (the list view's current filtered order) to CSV or XLSX.

:func:`export_customers` is the one entry point, so rules about who may export and the audit
entry for it have a single place to live. Rows are read in chunks of plain tuples (never the whole
book as ORM objects) and written to a ``.part`` file that replaces the target only when complete:
a cancelled or failed export leaves no half file behind.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import and_, case, or_, select

from guide_app.db.models import Customer, CustomerTag, Guide, Tag, TagGroup
from guide_app.domain.acquisition import shown_source
from guide_app.domain.errors import UserError
from guide_app.domain.phones import display_phone
from guide_app.domain.stages import StageThresholds, derive_stage
from guide_app.i18n import current_language, tr
from guide_app.services.context import AppContext
from guide_app.services.privacy import NOT_ASKED, HqExports, PrivacyService
from guide_app.services.settings import read_stage_thresholds

CHUNK = 500
FORMATS = ("csv", "xlsx")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# (column, header key) in file order
COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "field.name"), ("phone", "field.phone"), ("wechat_id", "field.wechat_id"),
    ("gender", "field.gender"), ("birthday", "field.birthday"), ("stage", "field.stage"),
    ("tags", "export.col.tags"), ("owner", "field.owner_guide_id"), ("source", "field.source"),
    ("preferences", "field.preferences"), ("sizes", "field.sizes"), ("notes", "field.notes"),
    ("total_spent", "export.col.total_spent"), ("order_count", "export.col.order_count"),
    ("last_purchase", "export.col.last_purchase"), ("created", "field.created_at"),
)
_SCOPE_RANK = case({"corp": 0, "store": 1}, value=TagGroup.scope, else_=2)  # as the tag picker orders groups
_TEXT_COLUMNS = frozenset({"name", "wechat_id", "tags", "owner", "source", "preferences", "sizes", "notes"})
_SELECT = (Customer.pk, Customer.id, Customer.name, Customer.phone, Customer.wechat_id, Customer.gender,
           Customer.birthday, Customer.stage, Customer.owner_guide_id, Customer.source, Customer.preferences,
           Customer.sizes, Customer.notes, Customer.total_spent_cents, Customer.order_count,
           Customer.last_purchase_at, Customer.created_at)


# opt-out wins everywhere: a customer who opted out on any channel never leaves the PC in a file
_CONTACTABLE = (Customer.consent_phone != "opted_out", Customer.consent_sms != "opted_out",
                Customer.consent_wechat != "opted_out", Customer.erased.is_(False))


@dataclass
class ExportResult:
    path: Path
    rows: int
    cancelled: bool = False
    note: str = ""  # catalog key: only this PC's exports were counted against the daily limit

    def summary(self) -> str:
        return tr("export.summary", rows=self.rows)


def _local_date(ms: int | None) -> str:
    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d")  # the store PC's own time zone


def _guard(value: str) -> str:
    """CSV opened in Excel runs =cmd|… as a formula: text starting like a formula gets an apostrophe
    (the importer takes it off again)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


class _Reader:
    def __init__(self, ctx: AppContext, thresholds: StageThresholds, lang: str) -> None:
        self.ctx = ctx
        self.thresholds = thresholds
        self.lang = lang
        self.now = ctx.now_ms()
        with ctx.read() as s:
            self.guides = {gid: name for gid, name in s.execute(select(Guide.id, Guide.name))}
        self.tag_sep = "、" if lang == "zh_CN" else ", "
        # the tags this guide sees: corp groups, the store's, and their own personal ones
        self._visible_group = and_(TagGroup.deleted_hlc.is_(None), or_(
            TagGroup.scope == "corp",
            and_(TagGroup.store_id == ctx.store_id,
                 or_(TagGroup.scope == "store", TagGroup.owner_guide_id == ctx.actor.guide_id)),
        ))

    def rows(self, keys: Sequence[int] | Sequence[str]) -> Iterator[dict[str, Any]]:
        by_pk = bool(keys) and isinstance(keys[0], int)
        for start in range(0, len(keys), CHUNK):
            chunk = list(keys[start:start + CHUNK])
            key_col = Customer.pk if by_pk else Customer.id
            with self.ctx.read() as s:
                found = {r.pk if by_pk else r.id: r for r in s.execute(
                    select(*_SELECT).where(key_col.in_(chunk), Customer.deleted_hlc.is_(None),
                                           Customer.store_id == self.ctx.store_id, *_CONTACTABLE))}
                ids = [r.id for r in found.values()]
                tags: dict[str, list[str]] = {}
                for cid, name in s.execute(
                    select(CustomerTag.customer_id, Tag.name)
                    .join(Tag, Tag.id == CustomerTag.tag_id)
                    .join(TagGroup, TagGroup.id == Tag.group_id)
                    .where(CustomerTag.customer_id.in_(ids), CustomerTag.active.is_(True),
                           Tag.deleted_hlc.is_(None), self._visible_group)
                    .order_by(_SCOPE_RANK, TagGroup.sort_order, TagGroup.pk, Tag.sort_order, Tag.pk)
                ):
                    tags.setdefault(cid, []).append(name)
            for key in chunk:
                r = found.get(key)
                if r is not None:
                    yield self._row(r, tags.get(r.id, []))

    def _row(self, r: Any, tags: list[str]) -> dict[str, Any]:
        stage = r.stage or derive_stage(r.created_at, r.last_purchase_at, self.now, self.thresholds).value
        return {
            "name": r.name, "phone": display_phone(r.phone), "wechat_id": r.wechat_id,
            "gender": tr(f"gender.{r.gender}", lang=self.lang), "birthday": r.birthday,
            "stage": tr(f"stage.{stage}", lang=self.lang), "tags": self.tag_sep.join(tags),
            "owner": self.guides.get(r.owner_guide_id, ""), "source": shown_source(r.source),
            "preferences": r.preferences, "sizes": r.sizes, "notes": r.notes,
            "total_spent": round(r.total_spent_cents / 100, 2), "order_count": r.order_count,
            "last_purchase": _local_date(r.last_purchase_at), "created": _local_date(r.created_at),
        }


def _write_csv(path: Path, headers: list[str], rows: Iterator[dict[str, Any]],
               step: Callable[[], bool]) -> int:
    count = 0
    # UTF-8 with BOM: the only way Excel on a Chinese Windows opens a CSV's Chinese text correctly
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(headers)
        for row in rows:
            cells = []
            for col, _key in COLUMNS:
                value = row[col]
                if col == "phone" and value:
                    value = "\t" + value  # a leading tab keeps Excel from showing 1.38123E+10
                elif col in _TEXT_COLUMNS and isinstance(value, str):
                    value = _guard(value)
                elif col == "total_spent":
                    value = f"{value:.2f}"
                cells.append(value)
            out.writerow(cells)
            count += 1
            if not step():
                break
    return count


def _write_xlsx(path: Path, headers: list[str], rows: Iterator[dict[str, Any]],
                step: Callable[[], bool]) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    widths = {"name": 14, "phone": 16, "wechat_id": 18, "birthday": 12, "tags": 24, "notes": 40,
              "preferences": 24, "last_purchase": 12, "created": 12}
    for i, (col, _key) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = widths.get(col, 10)
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=h)
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    count = 0
    for row in rows:
        cells: list[Any] = []
        for col, _key in COLUMNS:
            value = row[col]
            if isinstance(value, str) and value.startswith("="):
                cell = WriteOnlyCell(ws, value=value)
                cell.data_type = "s"  # text, never a formula
                value = cell
            cells.append(value)
        ws.append(cells)
        count += 1
        if not step():
            break
    wb.save(path)
    return count


def export_customers(
    ctx: AppContext,
    customers: Sequence[int] | Sequence[str],
    path: Path | str,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    thresholds: StageThresholds | None = None,
    lang: str | None = None,
    hq: HqExports = NOT_ASKED,
) -> ExportResult:
    """Write ``customers`` (list pks or ids, in the order to export; deleted or other stores'
    customers are left out, as are those who opted out on any channel) to ``path``, CSV or XLSX by
    its suffix, headers in the UI language. Managers only, within HQ's daily limit (counted over every
    PC with ``hq``, what :func:`guide_app.services.export_count.fetch_hq_exports` got), and audited."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise UserError("export.bad_format", suffix=path.suffix or path.name)
    privacy = PrivacyService(ctx)
    # managers only, within HQ's daily limit; refusals are logged
    allowance = privacy.authorize_export(len(customers), hq)
    lang = lang or current_language()
    progress = progress or (lambda done, total: None)
    cancelled = cancelled or (lambda: False)
    total = len(customers)
    headers = [tr(key, lang=lang) for _col, key in COLUMNS]
    if thresholds is None:
        with ctx.read() as s:
            thresholds = read_stage_thresholds(s)
    reader = _Reader(ctx, thresholds, lang)
    state = {"done": 0, "stopped": False}

    def step() -> bool:
        state["done"] += 1
        if state["done"] % CHUNK == 0:
            progress(state["done"], total)
            if cancelled():
                state["stopped"] = True
                return False
        return True

    part = path.with_name(path.name + ".part")
    progress(0, total)
    try:
        writer = _write_csv if fmt == "csv" else _write_xlsx
        rows = writer(part, headers, reader.rows(customers), step)
        if state["stopped"] or cancelled():
            part.unlink(missing_ok=True)
            return ExportResult(path, rows, cancelled=True, note=allowance.note)
        os.replace(part, path)
        privacy.record_export(rows, fmt, path.name)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise UserError("export.write_failed", detail=exc.strerror or str(exc)) from exc
    progress(total, total)
    return ExportResult(path, rows, note=allowance.note)
