"""Importing a customer file into the store's book, off the GUI thread, in whole batches.

Every row goes through the customer write path (:func:`insert_customer`/:func:`update_customer_row`),
so each imported customer gets its HLC stamps, outbox mutation, search keys and history (kind
"import") in the same transaction. Rows are committed ``batch_size`` at a time; cancelling stops
between two batches, so a cancelled import leaves whole rows only (and the outbox matches them).

Dedupe within the store, by normalised phone (or, for a row without a phone, by WeChat id):
- a match in the book is *merged*: an imported value only fills a field that is empty on the record,
  so nothing a guide typed is overwritten (never with a blank either); an imported value that
  differs from a filled field is not applied but kept in the customer's history as a "conflict"
  (old_value = the imported value), the same way sync keeps a losing value;
- the owner never changes through an import (moving customers is a transfer, 离职继承);
- tags are only added (a tag set is a union), except that a single-select group already holding
  another of the customer's tags keeps it (reported as a warning);
- duplicates inside the file follow the same rule: the first row creates the customer, later rows
  fill its gaps and add tags. Stage and consent are never imported.
"""

from __future__ import annotations

import csv
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select, text

from guide_app.db.models import Customer, CustomerHistory, Guide
from guide_app.domain.acquisition import import_source
from guide_app.domain.errors import UserError
from guide_app.i18n import tr
from guide_app.services.context import AppContext, Writer
from guide_app.services.customers import (
    CustomerInput,
    insert_customer,
    update_customer_row,
    validate,
)
from guide_app.services.import_files import (
    IMPORT_FIELDS,
    FileFormat,
    estimate_data_rows,
    is_blank,
    iter_data_rows,
    read_headers,
    save_mapping,
    sniff,
)
from guide_app.services.import_tags import ImportTags
from guide_app.services.import_values import (
    parse_birthday,
    parse_gender,
    parse_phone,
    split_tags,
    unescape_formula_guard,
)

TAG_NAME_LIMIT = 40
_FILL_FIELDS = ("name", "wechat_id", "gender", "birthday", "source", "preferences", "sizes", "notes")
_EXCERPT_CELLS = 6
_EXCERPT_CELL_CHARS = 24


@dataclass
class RowIssue:
    """A row the import refused (error) or landed with a caveat (warning)."""

    line: int  # row number as Excel shows it (header = 1 when it is the first row)
    reason: str  # in the UI language
    excerpt: str  # the start of the row, to recognise it
    key: str = ""  # message key, for code that reacts to the kind of problem
    cells: list[str] = field(default_factory=list)  # the whole row, for the error report file


@dataclass
class ImportOptions:
    format: FileFormat | None = None  # from the preview (the user may have changed it); None = sniff again
    owner_guide_id: str = ""  # owner of new customers whose row names none ("" = the acting guide)
    batch_size: int = 500  # file rows per transaction (and between two looks at cancel)
    remember_mapping: bool = True


@dataclass
class ImportReport:
    imported: int = 0  # new customers
    merged: int = 0  # rows that added something to an existing customer (in the book or earlier in the file)
    skipped: int = 0  # rows matching an existing customer that brought nothing new
    errors: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    cancelled: bool = False
    stopped_reason: str = ""  # the file could not be read further (rows before it were imported)
    total_rows: int = 0
    last_line: int = 0  # last row number committed
    headers: list[str] = field(default_factory=list)
    tags_created: int = 0

    @property
    def finished(self) -> bool:
        return not self.cancelled and not self.stopped_reason

    def summary(self) -> str:
        text_ = tr("import.summary", imported=self.imported, merged=self.merged, skipped=self.skipped,
                   errors=len(self.errors))
        gap = tr("import.sentence_gap")
        if self.cancelled:
            text_ += gap + tr("import.summary_cancelled", line=self.last_line)
        if self.stopped_reason:
            text_ += gap + self.stopped_reason
        return text_


@dataclass
class _Parsed:
    line: int
    values: dict[str, Any]
    tags: list[str]
    warnings: list[RowIssue]


@dataclass
class _Batch:
    imported: int = 0
    merged: int = 0
    skipped: int = 0
    tags_created: int = 0
    warnings: list[RowIssue] = field(default_factory=list)


_WECHAT_PKS = text(
    "SELECT s.wechat, s.pk FROM customer_search s JOIN customer c ON c.pk = s.pk "
    "WHERE s.store_id = :store AND s.wechat IN :wechats AND c.deleted_hlc IS NULL "
    "AND c.merged_into IS NULL ORDER BY s.pk"
).bindparams(bindparam("wechats", expanding=True))


@dataclass
class _Known:
    """One batch's customers by phone and by lower-cased WeChat id, kept in step with its own writes."""

    phones: dict[str, Customer] = field(default_factory=dict)
    wechats: dict[str, Customer] = field(default_factory=dict)
    _fresh: dict[int, int] = field(default_factory=dict)  # id(customer) → creation order in this batch

    def _rank(self, c: Customer) -> tuple[int, int]:
        # the WeChat look-up takes the lowest pk; a customer created in this batch has none yet
        return (1, self._fresh[id(c)]) if c.pk is None else (0, c.pk)

    def created(self, c: Customer) -> None:
        self._fresh[id(c)] = len(self._fresh)
        if c.phone:
            self.phones[c.phone] = c
        self.saw_wechat(c)

    def saw_wechat(self, c: Customer) -> None:
        if c.wechat_id:
            key = c.wechat_id.lower()
            cur = self.wechats.get(key)
            if cur is None or self._rank(c) < self._rank(cur):
                self.wechats[key] = c


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off for one batch. The batch's tens of thousands of containers all
    live until it is written, so the collector would walk the whole heap (pypinyin's dictionaries
    included) several times per batch and free next to nothing (about a tenth of the import's CPU time).
    It runs again between batches."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _reason(err: UserError) -> str:
    params = dict(err.params)
    if "field_key" in params:
        params["field"] = tr(params["field_key"])
    return tr(err.key, **params)


def _excerpt(cells: list[str]) -> str:
    parts = []
    for c in cells:
        c = " ".join(c.split())
        if not c:
            continue
        parts.append(c if len(c) <= _EXCERPT_CELL_CHARS else c[: _EXCERPT_CELL_CHARS - 1] + "…")
        if len(parts) >= _EXCERPT_CELLS:
            break
    return ", ".join(parts)


def _issue(line: int, cells: list[str], key: str, reason: str) -> RowIssue:
    return RowIssue(line=line, reason=reason, excerpt=_excerpt(cells), key=key, cells=list(cells))


class ImportJob:
    """One import of one file. Build it on the GUI thread, call :meth:`run` on the DB executor."""

    def __init__(self, ctx: AppContext, path: Path | str, mapping: dict[int, str],
                 options: ImportOptions | None = None) -> None:
        self.ctx = ctx
        self.path = Path(path)
        self.options = options or ImportOptions()
        unknown = sorted({f for f in mapping.values() if f and f not in IMPORT_FIELDS})
        if unknown:
            raise ValueError(f"unknown import fields: {unknown}")
        self.mapping = {int(c): f for c, f in mapping.items() if f}
        if "name" not in self.mapping.values():
            raise UserError("import.name_not_mapped")
        if self.options.batch_size < 1:
            raise ValueError("batch_size must be at least 1")

    # -- parsing (pure: no database) ---------------------------------------------------------------

    def _parse(self, line: int, cells: list[str], ncols: int, kind: str,
               guides: dict[str, str]) -> _Parsed | RowIssue | None:
        if is_blank(cells):
            return None
        if len(cells) > ncols and not is_blank(cells[ncols:]):
            return _issue(line, cells, "import.too_many_columns",
                          tr("import.too_many_columns", expected=ncols, got=len(cells)))
        if kind == "csv" and len(cells) < ncols:
            return _issue(line, cells, "import.too_few_columns",
                          tr("import.too_few_columns", expected=ncols, got=len(cells)))
        padded = cells + [""] * (ncols - len(cells))
        raw: dict[str, list[str]] = {}
        for col, name in sorted(self.mapping.items()):
            if col < len(padded):
                value = unescape_formula_guard(padded[col].replace("\r\n", "\n").strip())
                if value:
                    raw.setdefault(name, []).append(value)

        def first(name: str) -> str:
            return raw.get(name, [""])[0]

        warnings: list[RowIssue] = []
        try:
            owner_id = ""
            owner_name = first("owner")
            if owner_name:
                owner_id = guides.get(owner_name.casefold(), "")
                if not owner_id:
                    warnings.append(_issue(line, cells, "import.unknown_guide",
                                           tr("import.unknown_guide", name=owner_name)))
            phone = parse_phone(first("phone"))  # E.164: validate() is given "" so as not to parse it twice
            data = CustomerInput(
                name=first("name"), phone="", wechat_id=first("wechat_id"),
                gender=parse_gender(first("gender")), birthday=parse_birthday(first("birthday")),
                source=first("source"), owner_guide_id=owner_id, stage="",
                preferences=first("preferences"), sizes=first("sizes"),
                notes="\n".join(raw.get("notes", [])),
            )
            values = validate(data)
            values["phone"] = phone
            tags: list[str] = []
            for cell in raw.get("tags", []):
                for name in split_tags(cell):
                    if len(name) > TAG_NAME_LIMIT:
                        raise UserError("import.tag_too_long", name=name[:20] + "…", limit=TAG_NAME_LIMIT)
                    if name not in tags:
                        tags.append(name)
        except UserError as err:
            return _issue(line, cells, err.key, _reason(err))
        return _Parsed(line, values, tags, warnings)

    # -- writing -----------------------------------------------------------------------------------

    def _known(self, w: Writer, parsed: list[_Parsed]) -> _Known:
        """The batch's phones and (for rows without a phone) WeChat ids already in the book, one query
        per 500 each: what :func:`find_by_phone` and the ``customer_search`` WeChat look-up answer row
        by row (same store, live, not merged away, lowest pk first)."""
        known = _Known()
        phones = sorted({p.values["phone"] for p in parsed if p.values["phone"]})
        for start in range(0, len(phones), 500):
            for c in w.session.scalars(select(Customer).where(
                    Customer.store_id == self.ctx.store_id, Customer.phone.in_(phones[start:start + 500]),
                    Customer.deleted_hlc.is_(None), Customer.merged_into.is_(None)).order_by(Customer.pk)):
                known.phones.setdefault(c.phone, c)
        wechats = sorted({p.values["wechat_id"].lower() for p in parsed
                          if not p.values["phone"] and p.values["wechat_id"]})
        by_wechat: dict[str, int] = {}
        for start in range(0, len(wechats), 500):
            # customer_search.wechat is the lower-cased WeChat id, indexed per store
            for wechat, pk in w.session.execute(_WECHAT_PKS, {
                    "store": self.ctx.store_id, "wechats": wechats[start:start + 500]}).all():
                by_wechat.setdefault(wechat, pk)
        pks = sorted(set(by_wechat.values()))
        rows: dict[int, Customer] = {}
        for start in range(0, len(pks), 500):
            rows.update((c.pk, c) for c in w.session.scalars(select(Customer).where(
                Customer.pk.in_(pks[start:start + 500]))))
        known.wechats.update((wechat, rows[pk]) for wechat, pk in by_wechat.items())
        return known

    def _find_existing(self, values: dict[str, Any], known: _Known) -> Customer | None:
        if values["phone"]:
            return known.phones.get(values["phone"])
        if values["wechat_id"]:
            return known.wechats.get(values["wechat_id"].lower())
        return None

    def _write(self, w: Writer, tags: ImportTags, p: _Parsed, known: _Known, out: _Batch) -> None:
        existing = self._find_existing(p.values, known)
        if existing is None:
            values = dict(p.values)
            values["owner_guide_id"] = values["owner_guide_id"] or self.options.owner_guide_id
            # marked as imported, so the leaderboards count it apart from acquisitions
            customer = insert_customer(w, values, kind="import", extra={"source": import_source(values.get("source") or "")})
            known.created(customer)  # a later row of this batch with its phone or WeChat id merges into it
            changed = True
        else:
            customer = existing
            fill: dict[str, Any] = {}
            for name in _FILL_FIELDS:
                new, cur = p.values.get(name, ""), getattr(existing, name)
                if not new or new == cur:
                    continue
                if cur in ("", None):
                    fill[name] = new
                else:
                    self._keep_loser(w, existing, name, new, cur)
            changed = bool(fill) and bool(update_customer_row(w, existing, fill, kind="import"))
            if "wechat_id" in fill:
                known.saw_wechat(existing)
        for name in p.tags:
            before = len(tags.created)
            ref = tags.resolve(name)
            out.tags_created += len(tags.created) - before
            if not ref.multi:
                other = tags.other_active_in_group(customer.id, ref)
                if other is not None:
                    out.warnings.append(RowIssue(p.line, tr("import.single_select_kept", tag=ref.name,
                                                            group=ref.group_name, other=other),
                                                 "", "import.single_select_kept"))
                    continue
            changed = tags.assign(customer.id, ref) or changed
        if existing is None:
            out.imported += 1
        elif changed:
            out.merged += 1
        else:
            out.skipped += 1

    def _keep_loser(self, w: Writer, row: Customer, name: str, imported: Any, kept: Any) -> None:
        w.add_rows(CustomerHistory, [{
            "customer_id": row.id, "kind": "conflict", "field": name, "old_value": str(imported),
            "new_value": str(kept), "hlc": row.field_hlc.get(name, ""), "by_guide_id": self.ctx.actor.guide_id,
            "at": self.ctx.now_ms(),
        }])

    def _commit(self, parsed: list[_Parsed]) -> _Batch:
        out = _Batch()
        # a batch write: rows, outbox, search keys and history land in one go when it ends, so every
        # look-up below is answered from what was loaded up front and kept in step in memory
        with _collector_paused(), self.ctx.write(batch=True) as w, w.session.no_autoflush:
            known = self._known(w, parsed)
            tags = ImportTags(w)
            tags.load_assignments({c.id for c in (*known.phones.values(), *known.wechats.values())})
            for p in parsed:
                self._write(w, tags, p, known, out)
        return out

    # -- the job -----------------------------------------------------------------------------------

    def _guides(self) -> dict[str, str]:
        with self.ctx.read() as s:
            rows = s.execute(select(Guide.name, Guide.id, Guide.active)
                             .where(Guide.store_id == self.ctx.store_id)).all()
        by_name: dict[str, str] = {}
        for name, gid, _active in sorted(rows, key=lambda r: not r[2]):  # active guides first
            by_name.setdefault(name.strip().casefold(), gid)
        return by_name

    def _remember(self, headers: list[str]) -> None:
        with self.ctx.db.write() as s:
            save_mapping(s, headers, self.mapping)

    def run(self, progress: Callable[[int, int], None] | None = None,
            cancelled: Callable[[], bool] | None = None) -> ImportReport:
        """Import the file; ``progress(done, total)`` after each batch, ``cancelled()`` checked
        before each batch. Returns the report; only reading the file itself can raise."""
        progress = progress or (lambda done, total: None)
        cancelled = cancelled or (lambda: False)
        fmt = self.options.format or sniff(self.path).format
        headers = read_headers(self.path, fmt)
        report = ImportReport(headers=headers)
        if self.options.remember_mapping:
            self._remember(headers)
        try:
            report.total_rows = estimate_data_rows(self.path, fmt)
        except UserError:
            report.total_rows = 0  # unknown; reading below reports where the file goes bad
        guides = self._guides()
        ncols = len(headers)
        progress(0, report.total_rows)
        done = 0
        pending: list[_Parsed] = []
        pending_errors: list[RowIssue] = []
        pending_rows = 0
        last_line = 0

        def flush() -> bool:
            nonlocal done, pending, pending_errors, pending_rows
            if cancelled():
                report.cancelled = True
                return False
            out = self._commit(pending) if pending else _Batch()
            report.imported += out.imported
            report.merged += out.merged
            report.skipped += out.skipped
            report.tags_created += out.tags_created
            report.errors.extend(pending_errors)
            report.warnings.extend(w for p in pending for w in p.warnings)
            report.warnings.extend(out.warnings)
            report.warnings.sort(key=lambda issue: issue.line)
            report.last_line = last_line
            done += pending_rows
            report.total_rows = max(report.total_rows, done)
            progress(done, report.total_rows)
            pending, pending_errors, pending_rows = [], [], 0
            return True

        try:
            for line, cells in iter_data_rows(self.path, fmt):
                last_line = line
                pending_rows += 1
                result = self._parse(line, cells, ncols, fmt.kind, guides)
                if isinstance(result, RowIssue):
                    pending_errors.append(result)
                elif result is not None:
                    pending.append(result)
                if pending_rows >= self.options.batch_size and not flush():
                    return report
        except UserError as err:  # the rest of the file is unreadable; the rows read before it still land
            report.stopped_reason = _reason(err)
        if pending_rows:
            flush()
        return report


def write_error_report(report: ImportReport, path: Path | str) -> Path:
    """The refused rows as a CSV (UTF-8 with BOM, opens in Excel): the reason and the original row
    number first, then the row exactly as it was, so the user can fix it and import this file again
    (the two leading columns are recognised and left out; a row that was short or long stays so)."""
    path = Path(path)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow([tr("import.col.reason"), tr("import.col.line"), *report.headers])
        for issue in report.errors:
            out.writerow([issue.reason, issue.line, *issue.cells])
    return path
