"""The reusable ``hq_server`` fixture (tests/hq_fixtures.py) other suites build on: a seeded demo org
behind a real process, reachable with the printed demo credentials."""

from __future__ import annotations

from hq.demo import DEMO_PASSWORD
from tests.hq_fixtures import HQServer, SyncDevice


def test_hq_server_fixture_serves_the_demo_org(hq_server: HQServer) -> None:
    guide = hq_server.demo.account("hz01.guide2")
    assert guide.password == DEMO_PASSWORD and guide.store_ids == [hq_server.demo.stores["hz01"]]
    with hq_server.client() as http:
        dev = SyncDevice(http, guide.username, guide.password)
        body = dev.login()
        assert body["store"]["id"] == hq_server.demo.stores["hz01"]
        rows, _, _ = dev.pull_all()
        assert sum(1 for entity, _ in rows if entity == "customer") == 20
        floater = SyncDevice(http, "floater.guide", DEMO_PASSWORD, store_id=hq_server.demo.stores["sh01"])
        assert floater.login()["account"]["store_ids"] == sorted(hq_server.demo.account("floater.guide").store_ids)
    assert "revoked" not in hq_server.admin("list-devices").stdout
