"""Consent per channel (phone, SMS, WeChat): what the customer allowed, when, how and by whom.

The current value of each channel is a synced customer field (``consent_phone`` …) merged with
"opt-out wins" on HQ and every PC. Each capture is also an audit entry (``consent``: channel,
value, method, by whom, when) that goes up to HQ with the change in one transaction, so HQ holds
the full record of how every consent was obtained.

Because an opt-out beats any grant on every PC whatever the clocks say, this PC refuses to turn an
opt-out back into a grant: the grant would be undone at the next sync. An opted-out customer never
appears in campaign targets (``segment_sql.NOT_OPTED_OUT``) or exports (``exporter``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from guide_app.db.models import AuditLog, Guide
from guide_app.domain.entities import CONSENT_CHANNELS, CONSENT_VALUES
from guide_app.domain.errors import UserError
from guide_app.services.audit import record
from guide_app.services.context import AppContext
from guide_app.services.customers import get_live, update_customer_row

METHODS = ("counter", "form", "qr_landing", "import", "campaign")
OPTED_OUT = "opted_out"


@dataclass(frozen=True)
class ConsentEvent:
    channel: str
    value: str
    method: str
    by_guide_id: str
    by_name: str
    at: int


class ConsentService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def record(self, customer_id: str, changes: dict[str, str], method: str = "counter") -> list[str]:
        """Set consent for one or more channels (``{"sms": "opted_out"}``) as captured by ``method``;
        returns the channels that changed. Everything or nothing is written."""
        if method not in METHODS:
            raise UserError("security.consent.bad_method", value=method)
        for channel, value in changes.items():
            if channel not in CONSENT_CHANNELS:
                raise UserError("security.consent.bad_channel", value=channel)
            if value not in CONSENT_VALUES:
                raise UserError("security.consent.bad_value", value=value)
        changed: list[str] = []
        with self.ctx.write() as w:
            customer = get_live(w.session, customer_id)
            if customer.store_id != self.ctx.store_id or customer.erased:
                raise UserError("customer.not_found")
            values: dict[str, str] = {}
            for channel, value in changes.items():
                current = getattr(customer, f"consent_{channel}")
                if current == value:
                    continue
                if current == OPTED_OUT:
                    raise UserError("security.consent.opt_out_is_final", field_key=f"security.channel.{channel}")
                values[f"consent_{channel}"] = value
            if not values:
                return []
            update_customer_row(w, customer, values)
            for field, value in values.items():
                channel = field.removeprefix("consent_")
                record(w, "consent", customer_id, channel=channel, value=value, method=method)
                changed.append(channel)
        return changed

    def opt_out_everywhere(self, customer_id: str, method: str = "counter") -> list[str]:
        """The customer asks not to be contacted at all."""
        return self.record(customer_id, dict.fromkeys(CONSENT_CHANNELS, OPTED_OUT), method)

    def events(self, customer_id: str) -> list[ConsentEvent]:
        """How this customer's consent was captured on this PC, newest first."""
        with self.ctx.read() as s:
            names = {gid: name for gid, name in s.execute(select(Guide.id, Guide.name))}
            rows = s.scalars(select(AuditLog).where(AuditLog.action == "consent", AuditLog.target == customer_id)
                             .order_by(AuditLog.at.desc(), AuditLog.pk.desc())).all()
            return [ConsentEvent(str(r.detail.get("channel", "")), str(r.detail.get("value", "")),
                                 str(r.detail.get("method", "")), r.actor_id, names.get(r.actor_id, ""), r.at)
                    for r in rows]
