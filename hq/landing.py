"""``GET /a/<code>`` and ``POST /a/<code>``: the page a shopper reaches by scanning an acquisition code.

Every answer is a human page in Chinese (never JSON, never a trace): the form, the thank-you page with
the code's welcome text, or a plain page for an unknown, disabled or expired code, a flood (429) or a
fault. Each view is a scan; each accepted submission is a lead (see :mod:`hq.leads`).

Forms carry a signed, time-limited token bound to the code (HMAC with the org's token key), and a
post whose ``Origin`` names another site is refused, so another page cannot post leads in a
shopper's name.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from guide_app.domain.codes import is_code_text
from guide_app.domain.entities import CONSENT_CHANNELS
from guide_app.domain.errors import UserError
from guide_app.domain.phones import normalize_phone
from guide_app.i18n import tr
from hq import landing_limits, landing_pages, leads
from hq.db import Database
from hq.leads import Lead, LiveCode
from hq.models import Account, Store, SyncRow
from hq.org import may_access_store

log = logging.getLogger("hq.landing")

NAME_MAX = 60  # customer.name
PHONE_RAW_MAX = 40
MAX_BODY_BYTES = 64 * 1024  # a 10 KB name in Chinese is ~30 KB once form-encoded
TOKEN_SECONDS = 2 * 3600  # a form left open this long asks to be sent again
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def now_ms() -> int:
    return int(time.time() * 1000)


# --- finding the code ------------------------------------------------------------------------------


def find_code(session: Session, text: str, now: int) -> LiveCode | str:
    """The working code named by ``text``, or why it does not work: unknown, disabled, expired."""
    if not is_code_text(text):
        return "unknown"
    row = session.scalar(
        select(SyncRow).where(SyncRow.entity == "acquisition_code", SyncRow.lookup == text).order_by(SyncRow.id)
        .limit(1)
    )
    if row is None:
        return "unknown"
    data = row.data
    if row.deleted_hlc is not None or data.get("disabled") is True:
        return "disabled"
    expires = data.get("expires_at")
    if isinstance(expires, int) and not isinstance(expires, bool) and expires < now:
        return "expired"
    guide = session.get(Account, str(data.get("guide_id") or ""))
    store = session.get(Store, row.store_id)
    if guide is None or guide.disabled_at is not None or store is None or not may_access_store(session, guide, store.id):
        return "disabled"  # the guide has left the store: the code no longer brings customers to anyone
    tags = data.get("auto_tag_ids") or []
    return LiveCode(
        id=row.id, code=text, store_id=row.store_id, store_name=store.name, guide_id=guide.id,
        guide_name=guide.display_name, auto_tag_ids=tuple(str(t) for t in tags if isinstance(t, str)),
        welcome_text=str(data.get("welcome_text") or ""),
    )


# --- the form token -----------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _mac(secret: bytes, code: str, issued: int, nonce: str) -> str:
    return _b64(hmac.new(secret, f"landing:{code}:{issued}:{nonce}".encode(), hashlib.sha256).digest())


def make_token(secret: bytes, code: str, now: int) -> str:
    nonce = secrets.token_urlsafe(9)
    return f"{now}.{nonce}.{_mac(secret, code, now, nonce)}"


def token_ok(secret: bytes, code: str, token: str, now: int) -> bool:
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or len(token) > 120:
        return False
    issued = int(parts[0])
    if not (now - TOKEN_SECONDS * 1000 <= issued <= now + 60_000):
        return False
    return hmac.compare_digest(_mac(secret, code, issued, parts[1]), parts[2])


# --- the form ---------------------------------------------------------------------------------------


@dataclass
class FormInput:
    name: str = ""
    phone: str = ""
    channels: tuple[str, ...] = ()
    token: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _first(form: dict[str, list[str]], key: str) -> str:
    values = form.get(key) or [""]
    return values[0]


def clean_name(raw: str) -> str:
    return " ".join(_CONTROL.sub(" ", unicodedata.normalize("NFC", raw)).split())


def read_form(form: dict[str, list[str]], address: str) -> tuple[FormInput, Lead | None]:
    """Check the shopper's input; returns the input (with zh_CN errors) and the lead when valid."""
    got = FormInput(token=_first(form, "token"))
    got.name = clean_name(_first(form, "name"))
    got.phone = _first(form, "phone").strip()
    got.channels = tuple(c for c in CONSENT_CHANNELS if c in set(form.get("consent") or []))
    if not got.name:
        got.errors["name"] = "请填写您的称呼"
    elif len(got.name) > NAME_MAX:
        got.errors["name"] = f"称呼最多 {NAME_MAX} 个字"
        got.name = got.name[:NAME_MAX]
    phone = ""
    if len(got.phone) > PHONE_RAW_MAX:
        got.errors["phone"] = "请填写正确的手机号"
        got.phone = got.phone[:PHONE_RAW_MAX]
    else:
        try:
            phone = normalize_phone(got.phone)
        except UserError as exc:
            got.errors["phone"] = tr(exc.key, lang="zh_CN", **exc.params)
    if not got.channels:
        got.errors["consent"] = "请至少勾选一种联系方式，表示您同意导购联系您"
    if got.errors:
        return got, None
    return got, Lead(name=got.name, phone=phone, channels=got.channels, address=address)


# --- responses ----------------------------------------------------------------------------------------


def _html(status: int, content: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(content, status_code=status, headers={**landing_pages.SECURITY_HEADERS, **(headers or {})})


def _notice(kind: str) -> HTMLResponse:
    status, content = landing_pages.notice(kind)
    headers = {"Retry-After": str(landing_limits.retry_after_seconds())} if kind == "rate_limited" else None
    return _html(status, content, headers)


def _form(code: LiveCode, secret: bytes, now: int, got: FormInput | None = None, status: int = 200) -> HTMLResponse:
    got = got or FormInput()
    content = landing_pages.form_page(
        action=f"/a/{code.code}", token=make_token(secret, code.code, now), guide_name=code.guide_name,
        store_name=code.store_name, values={"name": got.name, "phone": got.phone}, channels=got.channels,
        errors=got.errors,
    )
    return _html(status, content)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":  # some in-app browsers send none; the token still holds
        return True
    # behind a balancer that rewrites Host, the public name arrives as X-Forwarded-Host
    hosts = {request.headers.get("host", ""), request.headers.get("x-forwarded-host", "").split(",")[0].strip()}
    return urlsplit(origin).netloc.lower() in {h.lower() for h in hosts if h}


def _guarded(run: Callable[[], HTMLResponse]) -> HTMLResponse:
    try:
        return run()
    except Exception:  # a shopper never sees a trace; the operator finds it in the log
        log.exception("landing page failed")
        return _notice("server_error")


async def _read_body(request: Request) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return body


_PAGE = {"content": {"text/html": {"schema": {"type": "string"}}}}
_PAGE_ANSWERS: dict[int | str, dict[str, Any]] = {
    status: {"description": what, **_PAGE} for status, what in (
        (400, "the form again, with what to fix"), (403, "posted from another site"), (404, "unknown code"),
        (410, "code disabled, deleted or expired"), (413, "form body over 64 KB"), (429, "too many hits"),
        (500, "plain fault page"))
}
_FORM_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
        "name": {"type": "string"}, "phone": {"type": "string"}, "token": {"type": "string"},
        "consent": {"type": "array", "items": {"type": "string", "enum": list(CONSENT_CHANNELS)}}}}}}}}


def make_router(db_of: Callable[[Request], Database], secret_of: Callable[[Request], bytes],
                address_of: Callable[[Request], str]) -> APIRouter:
    # documented (HTML only, no version headers) so the API fuzz covers the shoppers' pages too
    router = APIRouter(tags=["landing"], default_response_class=HTMLResponse, responses=_PAGE_ANSWERS)

    @router.head("/a/{text:path}", operation_id="landing_head")  # a link checker: no scan counted
    @router.get("/a/{text:path}")
    async def landing(request: Request, text: str) -> HTMLResponse:
        db, address = db_of(request), address_of(request)

        def run() -> HTMLResponse:
            secret = secret_of(request)
            now = now_ms()
            with db.session() as s:
                code = find_code(s, text, now)
                if isinstance(code, str):
                    return _notice(code)
                if request.method == "HEAD":  # a link checker, not a shopper: not a scan
                    return _html(200, "")
                leads.lock_store(s, code)  # serializes this code's hits, so its limits hold exactly
                if not landing_limits.allowed(s, "scan", code.code, address, now):
                    return _notice("rate_limited")
                landing_limits.record(s, "scan", code.code, address, now)
                leads.record_scan(s, code, now)
                return _form(code, secret, now)

        return await run_in_threadpool(_guarded, run)

    @router.post("/a/{text:path}", openapi_extra=_FORM_BODY)
    async def submit(request: Request, text: str) -> HTMLResponse:
        db, address = db_of(request), address_of(request)
        try:
            body = await _read_body(request)
        except Exception:
            log.exception("landing form body unreadable")
            return _notice("server_error")
        if body is None:
            return _notice("too_large")
        same_origin = _same_origin(request)

        def run() -> HTMLResponse:
            secret = secret_of(request)
            now = now_ms()
            try:
                form = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=20)
            except ValueError:
                form = {}
            with db.session() as s:
                code = find_code(s, text, now)
                if isinstance(code, str):
                    return _notice(code)
                leads.lock_store(s, code)
                if not landing_limits.allowed(s, "submit", code.code, address, now):
                    return _notice("rate_limited")
                landing_limits.record(s, "submit", code.code, address, now)
                if not same_origin:
                    return _notice("bad_origin")
                got, lead = read_form(form, address)
                if not token_ok(secret, code.code, got.token, now):
                    got.errors = {"form": "页面已过期，请检查后重新提交", **got.errors}
                    return _form(code, secret, now, got, status=400)
                if lead is None:
                    return _form(code, secret, now, got, status=400)
                result = leads.record_lead(s, code, lead, now)
                log.info("landing lead code=%s outcome=%s", code.id, result.outcome)
                content = landing_pages.thanks_page(guide_name=code.guide_name, store_name=code.store_name,
                                                    welcome_text=code.welcome_text)
                return _html(200, content)

        return await run_in_threadpool(_guarded, run)

    return router
