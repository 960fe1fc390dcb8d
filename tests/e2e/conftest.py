from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.hq_process import HQProcess, running_hq


@pytest.fixture(scope="session")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HQProcess]:
    with running_hq(tmp_path_factory.mktemp("hq")) as server:
        yield server


@pytest.fixture()
def pcs(tmp_path: Path) -> Iterator[list[object]]:
    opened: list[object] = []
    yield opened
    for pc in opened:
        pc.close()  # type: ignore[attr-defined]
