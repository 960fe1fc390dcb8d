"""Everything a view may call, built once by the composition root (guide_app.app) and handed down.

Views call these services only through ``runner`` (tasks.py), so SQLite never runs on the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from guide_app.services.context import AppContext
from guide_app.services.customer_query import CustomerQuery
from guide_app.services.customers import CustomerService
from guide_app.services.follow_ups import FollowUpService
from guide_app.services.org import OrgService
from guide_app.services.purchases import PurchaseService
from guide_app.services.settings import SettingsService
from guide_app.services.tags import TagService
from guide_app.tasks import TaskRunner
from guide_app.views.sync_status import SyncController


@dataclass
class AppServices:
    ctx: AppContext
    runner: TaskRunner
    data_dir: Path
    store_name: str = ""
    sync: SyncController | None = None  # set when this PC syncs with an HQ (views/sync_status.py)
    customers: CustomerService = field(init=False)
    query: CustomerQuery = field(init=False)
    tags: TagService = field(init=False)
    follow_ups: FollowUpService = field(init=False)
    purchases: PurchaseService = field(init=False)
    settings: SettingsService = field(init=False)
    org: OrgService = field(init=False)

    def __post_init__(self) -> None:
        self.customers = CustomerService(self.ctx)
        self.query = CustomerQuery(self.ctx)
        self.tags = TagService(self.ctx)
        self.follow_ups = FollowUpService(self.ctx)
        self.purchases = PurchaseService(self.ctx)
        self.settings = SettingsService(self.ctx)
        self.org = OrgService(self.ctx)

    @property
    def guide_name(self) -> str:
        return self.ctx.actor.name
