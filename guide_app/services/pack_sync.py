"""Bringing this store's campaign packs in line with HQ: download what is new (resumable), verify and
install it, and remove what HQ withdrew. Runs after a sync, on the network thread.

A download goes to ``<packs dir>/.downloads/<id>-<version>.part`` and continues from its size on the
next attempt, so a large pack survives a flaky store connection. A version this PC refused for a
reason that another download cannot fix (a bad signature, another store…) is not fetched again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from guide_app.domain.errors import UserError
from guide_app.services.packs import InstalledPack, PackService
from guide_app.sync.client import HqClient
from guide_app.sync.protocol import PackInfo

# refusals worth another download: the bytes that arrived were not the bytes HQ listed
_RETRY_KEYS = {"pack.download_mismatch", "pack.not_a_zip", "pack.install_failed"}


@dataclass
class PackSyncReport:
    installed: list[InstalledPack] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    refused: list[tuple[PackInfo, UserError]] = field(default_factory=list)
    cancelled: bool = False


def _wanted(packs: PackService, info: PackInfo) -> bool:
    current = next((p for p in packs.packs(statuses=("installed", "expired", "withdrawn")) if p.id == info.id), None)
    if current is not None and current.version >= info.version and current.status != "withdrawn":
        return False
    return not any(r.pack_id == info.id and r.version == info.version and r.error.key not in _RETRY_KEYS
                   for r in packs.refusals(limit=200))


def sync_packs(client: HqClient, packs: PackService, *, cancelled: Callable[[], bool] = lambda: False,
               ) -> PackSyncReport:
    """One round: list, withdraw, download and install. Network errors propagate (the caller's
    backoff retries later); a refused pack is recorded by :class:`PackService` and reported here."""
    report = PackSyncReport()
    listing = client.list_packs()
    for pack_id in listing.withdrawn:
        if packs.withdraw(pack_id):
            report.withdrawn.append(pack_id)
    downloads = packs.packs_dir / ".downloads"
    for info in listing.packs:
        if not _wanted(packs, info):
            continue
        downloads.mkdir(parents=True, exist_ok=True)
        part = downloads / f"{info.id}-{info.version}.part"
        if part.exists() and part.stat().st_size > info.size:
            part.unlink()
        if not client.download_pack(info.id, info.version, part, cancelled=cancelled):
            report.cancelled = True
            return report
        try:
            report.installed.append(packs.install_file(part, source=f"{info.title} v{info.version}",
                                                       expected_size=info.size, expected_sha256=info.sha256))
        except UserError as err:
            report.refused.append((info, err))
        finally:
            part.unlink(missing_ok=True)
    return report
