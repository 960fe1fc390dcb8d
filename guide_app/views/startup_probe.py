"""``--startup-figures``: how long the app takes to become usable and how much memory it holds then.

Usable means the main window is shown and the customer list has painted its first page of rows (the
ids of the whole list found, the first page's rows loaded through the table's own lazy paging). The
probe processes events until then and returns the figures; the benchmark (bench/bench_client_scale.py)
times the process from outside, from its start to the line printed here.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer

from guide_app.views.shell import AppShell


def memory_kib() -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (resident at most) of this process, in KiB; empty off Linux."""
    out: dict[str, int] = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def wait_usable(shell: AppShell, timeout_s: float = 120.0) -> dict[str, object]:
    """Run the event loop until the customer list shows its first rows (or the book is empty and says
    so); then the figures: whether it got there, rows in the list, ms spent here, memory.

    One local event loop with a polling timer, not processEvents() in a loop: each processEvents()
    call of PySide6 6.12 drops a reference to None, and a few thousand of them abort the process
    ("deallocating None")."""
    page = shell.window.customers
    model = page.model
    t0 = time.perf_counter()
    deadline = time.monotonic() + timeout_s
    state = {"ready": False}
    loop = QEventLoop()

    def check() -> None:
        if state["ready"] or time.monotonic() > deadline:
            loop.quit()  # one tick after the rows arrived: the repaint they asked for has run
        elif model.rowCount() and model.cached_pages():
            state["ready"] = True  # the table asked for the rows it paints, and the first page arrived
        elif not model.rowCount() and page.empty_hint.isVisible():
            state["ready"] = True  # an empty book: the hint is what the guide sees

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(check)
    timer.start()
    loop.exec()
    timer.stop()
    first = model.row_at(0) if model.rowCount() else None
    return {"ready": state["ready"], "rows": model.rowCount(), "first_row": first.name if first else "",
            "waited_ms": round((time.perf_counter() - t0) * 1000, 1), **memory_kib()}
