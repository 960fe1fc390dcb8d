"""HQ's daily export limit is per person across PCs: what a manager exported on PC a and synced is
counted on PC b, and an export over what is left is refused there (audited); a PC b that cannot
reach HQ counts only its own exports and says so."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from guide_app.domain.errors import UserError
from guide_app.services.audit import AuditService
from guide_app.services.customer_query import CustomerQuery
from guide_app.services.export_count import OFFLINE_NOTE, fetch_hq_exports
from guide_app.services.exporter import export_customers
from guide_app.services.privacy import DEFAULT_EXPORT_LIMIT, PrivacyService
from tests.e2e.clients import PC
from tests.e2e.faults import FaultTransport
from tests.e2e.hq_process import HQProcess, hq_command

pytestmark = pytest.mark.e2e
LIMIT = 12
MANAGER = "hz01.manager"


def set_limit(hq: HQProcess, limit: int) -> None:
    subprocess.run([*hq_command(), "admin", "set-export-limit", "--db", hq.db_url, str(limit)], check=True,
                   capture_output=True, timeout=120)


@pytest.fixture()
def small_limit(hq: HQProcess) -> Iterator[None]:
    set_limit(hq, LIMIT)
    yield
    set_limit(hq, DEFAULT_EXPORT_LIMIT)  # the HQ process is shared by the session's e2e tests


def test_exports_on_one_pc_reduce_the_allowance_on_another(hq: HQProcess, tmp_path: Path, pcs: list[object],
                                                          small_limit: None) -> None:
    a = PC(tmp_path / "a.db", hq.url, MANAGER)
    switch = {"offline": False}

    def plan(request: httpx.Request) -> object:
        if switch["offline"]:  # the store's line is down: the connection is refused (OfflineError)
            raise httpx.ConnectError("connection refused", request=request)
        return None

    transport = FaultTransport(plan)
    b = PC(tmp_path / "b.db", hq.url, MANAGER, transport=transport)
    pcs.extend([a, b])
    for pc in (a, b):
        pc.sync()  # the store's book and HQ's limit
        assert PrivacyService(pc.ctx).allowance(fetch_hq_exports(pc.ctx, pc.sync_service)).limit == LIMIT
    before = PrivacyService(b.ctx).allowance(fetch_hq_exports(b.ctx, b.sync_service)).used

    pks_a = CustomerQuery(a.ctx).ids()
    on_a = export_customers(a.ctx, pks_a[:8], tmp_path / "a.csv", hq=fetch_hq_exports(a.ctx, a.sync_service))
    assert on_a.rows > 0 and on_a.note == ""
    a.sync()  # the export's audit entry reaches HQ

    pks_b = CustomerQuery(b.ctx).ids()
    hq_view = fetch_hq_exports(b.ctx, b.sync_service)
    allowance = PrivacyService(b.ctx).allowance(hq_view)
    assert allowance.note == "" and allowance.used == before + on_a.rows
    left = allowance.left
    assert left == LIMIT - before - on_a.rows
    with pytest.raises(UserError) as exc:
        export_customers(b.ctx, pks_b[:left + 1], tmp_path / "b-over.csv", hq=hq_view)
    assert exc.value.key == "security.export.over_limit" and exc.value.params["left"] == left
    assert not (tmp_path / "b-over.csv").exists()
    refusal = AuditService(b.ctx).entries(action="export_refused")[0]
    assert (refusal.detail["rows"], refusal.detail["reason"]) == (left + 1, "daily_limit")

    on_b = export_customers(b.ctx, pks_b[:left], tmp_path / "b.csv", hq=hq_view)
    assert on_b.rows <= left
    b.sync()  # b's entry is at HQ too now: counted once on b (by its id), not twice
    assert PrivacyService(b.ctx).allowance(fetch_hq_exports(b.ctx, b.sync_service)).used == \
        before + on_a.rows + on_b.rows

    # b cannot reach HQ: only b's own exports of today count, and the export says so
    switch["offline"] = True
    offline = fetch_hq_exports(b.ctx, b.sync_service)
    assert offline.entries is None and offline.note == OFFLINE_NOTE
    own = PrivacyService(b.ctx).allowance(offline)
    assert (own.used, own.note) == (on_b.rows, OFFLINE_NOTE)
    result = export_customers(b.ctx, pks_b[:1], tmp_path / "b-offline.csv", hq=offline)
    assert result.note == OFFLINE_NOTE
