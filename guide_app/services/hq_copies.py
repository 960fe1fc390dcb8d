"""HQ's read-only answers kept on this PC (leaderboards, trends, campaign progress): ask HQ, keep the
answer in ``leaderboard_snapshot`` with its "as of" time, and when HQ cannot be reached hand back the
copy kept last, saying when it was fetched and why HQ did not answer. One mechanism for every page
that shows HQ's figures, so they all behave alike offline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel

from guide_app.db.models import LeaderboardSnapshot
from guide_app.domain.errors import UserError
from guide_app.services.context import AppContext
from guide_app.services.sync_service import SyncService
from guide_app.sync.client import HqClient
from guide_app.sync.errors import ForbiddenError, NotEnrolledError, RequestError, SyncError

A = TypeVar("A", bound=BaseModel)
Source = Literal["hq", "saved", "local"]  # fresh from HQ; the copy kept at fetched_at; worked out on this PC


@dataclass(frozen=True)
class Fetched(Generic[A]):
    answer: A
    fetched_at: int
    source: Source
    problem: str = ""  # why HQ's answer is not fresh (in the user's language)

    @property
    def offline(self) -> bool:
        return self.source != "hq"


@dataclass(frozen=True)
class CopyLabel:
    """What a kept copy is, for the rows of ``leaderboard_snapshot``."""

    scope: str
    metric: str
    period: str


def hq_client(sync: SyncService | None) -> HqClient:
    if sync is None or not sync.store.get_state("device_id"):
        raise NotEnrolledError("this PC is not signed in to HQ")
    return sync.client


class HqCopies:
    """Fetch-and-keep for the signed-in account (``sync`` None: kept copies only)."""

    def __init__(self, ctx: AppContext, sync: SyncService | None, now_ms: Callable[[], int]) -> None:
        self.ctx = ctx
        self.sync = sync
        self.now_ms = now_ms

    def fetch(self, key: str, model: type[A], ask: Callable[[HqClient], A], label: CopyLabel, *,
              refused: str, no_copy: str, fallback: Callable[[], A] | None = None) -> Fetched[A]:
        """HQ's answer, kept under ``key``. HQ refusing: UserError ``refused``. HQ unreachable: the copy
        kept last; without one, ``fallback()`` (marked local) if given, else UserError ``no_copy``."""
        try:
            answer = ask(hq_client(self.sync))
        except (ForbiddenError, RequestError) as exc:
            raise UserError(refused, reason=exc.message()) from exc
        except SyncError as exc:
            kept = self.kept(key)
            if kept is not None:
                return Fetched(model.model_validate(kept.rows), kept.fetched_at, "saved", exc.message())
            if fallback is None:
                raise UserError(no_copy, reason=exc.message()) from exc
            return Fetched(fallback(), self.now_ms(), "local", exc.message())
        fetched = self.now_ms()
        self._keep(key, label, answer, fetched)
        return Fetched(answer, fetched, "hq")

    def kept(self, key: str) -> LeaderboardSnapshot | None:
        with self.ctx.db.read() as s:
            row = s.get(LeaderboardSnapshot, key)
            if row is not None:
                s.expunge(row)
            return row

    def _keep(self, key: str, label: CopyLabel, answer: BaseModel, fetched: int) -> None:
        payload = answer.model_dump(mode="json")
        as_of = int(getattr(answer, "as_of_ms", 0) or 0)
        with self.ctx.db.write() as s:
            row = s.get(LeaderboardSnapshot, key)
            if row is None:
                s.add(LeaderboardSnapshot(key=key, account_id=self.ctx.actor.guide_id, scope=label.scope,
                                          metric=label.metric, period=label.period, as_of=as_of, rows=payload,
                                          fetched_at=fetched))
            else:
                row.as_of, row.rows, row.fetched_at = as_of, payload, fetched
