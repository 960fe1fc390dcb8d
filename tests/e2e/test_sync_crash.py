"""SIGKILL a PC at random points while it writes and syncs: the file stays whole (every change
with its outbox row and the reverse; pull pages with their cursor) and it converges afterwards."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from guide_app.db.engine import open_database
from guide_app.db.models import Customer, Outbox
from guide_app.db.state import get_state
from guide_app.domain.hlc import Stamp
from tests.e2e.clients import PC
from tests.e2e.hq_process import HQProcess

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def check_file(path: Path, hq: HQProcess) -> None:
    db = open_database(path)
    try:
        with db.read() as s:
            node = get_state(s, "hlc_node")
            seqs = list(s.scalars(select(Outbox.device_seq).order_by(Outbox.device_seq)))
            assert seqs == list(range(1, len(seqs) + 1)), "outbox seqs must be contiguous"
            written: dict[str, set[str]] = {}
            for entity_id, hlc in s.execute(select(Outbox.entity_id, Outbox.field_hlc)
                                            .where(Outbox.entity == "customer")):
                written.setdefault(entity_id, set()).update(hlc.values())
            for c in s.scalars(select(Customer)):
                ours = {st for st in c.field_hlc.values() if st and Stamp.parse(st).node == node}
                assert ours <= written.get(c.id, set()), f"change without its outbox row on {c.id}"
            ids = set(s.scalars(select(Customer.id)))
            assert set(written) <= ids, "outbox row without its change"
            cursor = int(get_state(s, "pull_cursor") or 0)
            store_id = get_state(s, "store_id")
        # the cursor never runs ahead of the rows: everything HQ holds at or below it is here
        engine = create_engine(hq.db_url)
        with engine.connect() as c:
            upto = set(c.execute(text("SELECT id FROM sync_row WHERE entity = 'customer' AND store_id = :s "
                                      "AND version <= :v"), {"s": store_id, "v": cursor}).scalars())
        engine.dispose()
        assert upto <= ids, f"{len(upto - ids)} rows at or below cursor {cursor} are missing"
    finally:
        db.dispose()


def test_kill_9_at_random_points_loses_nothing(hq: HQProcess, tmp_path: Path, pcs: list[object]) -> None:
    path = tmp_path / "killed.db"
    rnd = random.Random(11)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for round_no in range(5):
        child = subprocess.Popen([sys.executable, "-m", "tests.e2e.sync_child", str(path), hq.url, "sz01.manager",
                                  str(round_no)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == b"ready", child.stderr.read() if child.stderr else b""
        time.sleep(rnd.uniform(0.2, 1.2))
        child.send_signal(signal.SIGKILL)
        child.wait()
        check_file(path, hq)
    pc = PC(path, hq.url, "sz01.manager")
    observer = PC(tmp_path / "observer.db", hq.url, "sz01.guide1")
    pcs.extend([pc, observer])
    pc.sync()
    observer.sync()
    assert pc.outbox_status().get("pending", 0) == 0
    assert pc.outbox_status().get("rejected", 0) == 0
    mine = {k: v for k, v in pc.book().items()}
    assert mine == observer.book()
    created = [v for v in mine.values() if v[0].startswith("进程")]
    assert len(created) == len({v[0] for v in created})  # nothing duplicated
