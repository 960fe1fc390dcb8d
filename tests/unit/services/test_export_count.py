"""The daily export limit counts one person's exports on every PC: this PC's audit entries of today
and HQ's, one entry once by its id (an entry this PC pushed is in both)."""

from __future__ import annotations

from pathlib import Path

import pytest

from guide_app.domain.errors import UserError
from guide_app.services.audit import AuditService, exports_today
from guide_app.services.context import Actor, AppContext
from guide_app.services.customer_query import CustomerQuery
from guide_app.services.export_count import OFFLINE_NOTE
from guide_app.services.exporter import export_customers
from guide_app.services.privacy import HqExports, PrivacyService, count_exports
from guide_app.services.sync_apply import apply_org
from tests.unit.services.conftest import add_customer

MANAGER = Actor("mgr-1", "store-1", role="store_manager", name="陈店长")


def test_the_union_counts_an_entry_in_both_once() -> None:
    assert count_exports({"a": 10, "b": 5}, {"b": 5, "c": 7}) == 22
    assert count_exports({"a": 10}, None) == 10  # HQ not asked or unreachable: this PC only
    assert count_exports({}, {"c": 7, "d": 3}) == 10  # all on other PCs
    assert count_exports({"a": 4}, {"a": 4}) == 4
    assert count_exports({}, {}) == 0


def test_allowance_adds_the_other_pcs_exports_and_refuses_over_what_is_left(ctx: AppContext, tmp_path: Path) -> None:
    for i in range(3):
        add_customer(ctx, f"客户{i}", f"1391234567{i}")
    mgr = AppContext(ctx.db, MANAGER, now_ms=ctx._now)
    with ctx.db.write() as s:
        apply_org(s, {"stores": [], "export_daily_limit": 10})
    pks = CustomerQuery(mgr).ids()
    export_customers(mgr, pks[:2], tmp_path / "here.csv")
    (mine,) = exports_today(mgr, "mgr-1").items()
    assert mine[1] == 2
    privacy = PrivacyService(mgr)
    hq = HqExports({mine[0]: 2, "on-pc-a": 6})  # HQ holds this PC's pushed entry and one from PC a
    allowance = privacy.allowance(hq)
    assert (allowance.limit, allowance.used, allowance.left, allowance.note) == (10, 8, 2, "")
    assert privacy.allowance(HqExports(None, OFFLINE_NOTE)).left == 8  # offline: this PC's count only
    with pytest.raises(UserError) as exc:
        export_customers(mgr, pks, tmp_path / "over.csv", hq=hq)
    assert exc.value.key == "security.export.over_limit" and exc.value.params == {"limit": 10, "left": 2, "count": 3}
    refusal = AuditService(mgr).entries(action="export_refused")[0]
    assert refusal.detail["rows"] == 3 and refusal.detail["counted"] == "all_pcs"
    assert not (tmp_path / "over.csv").exists()
    result = export_customers(mgr, pks, tmp_path / "offline.csv", hq=HqExports(None, OFFLINE_NOTE))
    assert (result.rows, result.note) == (3, OFFLINE_NOTE)
    # this PC: 2 + 3 today; with 4 on PC a one more is left
    assert export_customers(mgr, pks[:1], tmp_path / "one.csv", hq=HqExports({"on-pc-a": 4})).note == ""
