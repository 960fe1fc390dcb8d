"""A PC that writes and syncs in a loop until it is killed (for the SIGKILL test).

    python -m tests.e2e.sync_child DB_PATH HQ_URL USERNAME SEED
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from tests.e2e.clients import PC


def main() -> None:
    path, url, username, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    rnd = random.Random(seed)
    pc = PC(Path(path), url, username)
    pc.sync_service.pull_limit = 7  # many small pages, so a kill often lands between a page and the next
    print("ready", flush=True)
    n = 0
    while True:
        n += 1
        action = rnd.random()
        if action < 0.4:
            pc.create(f"进程{seed}-{n}", "")
        elif action < 0.7:
            live = [k for k, v in pc.book().items() if not v[5] and not v[6]]
            if live:
                pc.edit(rnd.choice(live), notes=f"第{n}次修改")
        else:
            pc.sync()


if __name__ == "__main__":
    main()
