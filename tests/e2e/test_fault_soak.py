"""Fault soak, short run: four PCs of two stores work at random and sync through the fault proxy
(drops before and after HQ, delays, resets and truncation mid-body, 500/503/429 from the proxy); after
one fault-free round every PC and HQ agree, nothing acknowledged is missing and nothing is doubled.
``python -m bench.soak --seconds 120`` is the long run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.hq_process import running_hq
from tests.e2e.soak import Soak

pytestmark = pytest.mark.e2e


def test_clients_and_hq_agree_after_a_fault_soak(tmp_path: Path) -> None:
    with running_hq(tmp_path, customers=10) as hq:
        soak = Soak(hq.url, tmp_path, seed=7, rate=0.35)
        try:
            report = soak.run(steps=160)
        finally:
            soak.close()
    print("\n".join(report.lines()))
    assert not report.problems, "\n".join(report.lines())
    faults = report.proxy["faults"]
    assert isinstance(faults, dict) and len(faults) >= 6, faults  # most kinds really happened
    assert report.mutations > 100 and report.retries > 0
