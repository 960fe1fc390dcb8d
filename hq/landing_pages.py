"""The landing page's HTML (zh-CN): plain HTML with inline CSS, no scripts, no external assets, so it
opens the same in WeChat's in-app browser and on any phone. Every value is HTML-escaped here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

CHANNEL_LABELS = (("phone", "电话"), ("sms", "短信"), ("wechat", "微信"))

_CSS = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#f2f4f7;color:#1f2329;font:16px/1.6 -apple-system,BlinkMacSystemFont,"PingFang SC",
"Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif}
.wrap{max-width:480px;margin:0 auto;padding:20px 16px 32px}
.store{font-size:14px;color:#646a73;text-align:center;letter-spacing:.05em;margin:4px 0 14px}
.card{background:#fff;border-radius:16px;padding:22px 20px;box-shadow:0 1px 3px rgba(31,35,41,.08)}
.guide{display:flex;align-items:center;gap:14px;padding-bottom:18px;border-bottom:1px solid #eef0f3}
.avatar{flex:none;width:52px;height:52px;border-radius:50%;background:#1f5fbf;color:#fff;font-size:22px;
font-weight:600;display:flex;align-items:center;justify-content:center}
.guide-name{font-size:18px;font-weight:600}
.muted{color:#8a9099;font-size:13px}
h1{font-size:20px;line-height:1.4;margin:18px 0 6px}
.intro{color:#4e5561;font-size:15px;margin:0 0 18px}
label.field{display:block;font-size:15px;font-weight:600;margin:14px 0 6px}
input[type=text],input[type=tel]{width:100%;height:48px;border:1px solid #d6dae0;border-radius:10px;
padding:0 14px;font-size:17px;color:#1f2329;background:#fff;-webkit-appearance:none;appearance:none}
input[type=text]:focus,input[type=tel]:focus{outline:none;border-color:#1f5fbf;box-shadow:0 0 0 3px rgba(31,95,191,.15)}
input.bad{border-color:#d83931}
.err{color:#d83931;font-size:14px;margin-top:6px}
.alert{background:#fdecea;color:#b3261e;border-radius:10px;padding:10px 14px;font-size:14px;margin:0 0 8px}
fieldset{border:0;margin:18px 0 0;padding:0}
legend{font-size:15px;font-weight:600;padding:0}
.hint{color:#8a9099;font-size:13px;margin:0 0 8px}
.checks{display:flex;gap:10px}
.check{flex:1;display:flex;align-items:center;justify-content:center;gap:8px;height:46px;border:1px solid #d6dae0;
border-radius:10px;font-size:16px}
.check input{width:20px;height:20px;margin:0;accent-color:#1f5fbf}
.fine{color:#8a9099;font-size:13px;margin:14px 0 0}
button{display:block;width:100%;height:50px;margin-top:20px;border:0;border-radius:25px;background:#1f5fbf;
color:#fff;font-size:17px;font-weight:600;letter-spacing:.1em}
button:active{background:#184c99}
.done{text-align:center;padding:8px 0 4px}
.tick{width:64px;height:64px;margin:6px auto 12px;border-radius:50%;background:#e8f3ec;color:#1a7f37;font-size:34px;
line-height:64px;font-weight:700}
.welcome{background:#f5f7fa;border-radius:12px;padding:14px 16px;margin-top:18px;text-align:left;white-space:pre-wrap;
word-break:break-word;color:#1f2329}
.welcome .from{display:block;color:#8a9099;font-size:13px;margin-bottom:4px;white-space:normal}
.notice{text-align:center;padding:18px 4px}
.notice .icon{width:60px;height:60px;margin:0 auto 12px;border-radius:50%;background:#f2f4f7;color:#8a9099;
font-size:30px;line-height:60px;font-weight:700}
footer{color:#a3a8b0;font-size:12px;text-align:center;margin-top:18px}
"""

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",  # guides' names and codes are not for search engines
}


def _page(title: str, body: str, store_name: str = "") -> str:
    store = f'<div class="store">{escape(store_name)}</div>' if store_name else ""
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1,viewport-fit=cover">'
        '<meta name="format-detection" content="telephone=no">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f'<body><div class="wrap">{store}<main class="card">{body}</main>'
        "<footer>您的信息受保护，仅用于本店导购为您服务</footer></div></body></html>"
    )


def _guide_block(guide_name: str, store_name: str) -> str:
    initial = escape(guide_name.strip()[:1] or "导")
    return (
        f'<div class="guide"><div class="avatar" aria-hidden="true">{initial}</div><div>'
        f'<div class="guide-name">{escape(guide_name)}</div>'
        f'<div class="muted">{escape(store_name)} · 专属导购</div></div></div>'
    )


def form_page(
    *,
    action: str,
    token: str,
    guide_name: str,
    store_name: str,
    values: Mapping[str, str] | None = None,
    channels: Sequence[str] = (),
    errors: Mapping[str, str] | None = None,
) -> str:
    values = values or {}
    errors = errors or {}

    def err(key: str) -> str:
        return f'<div class="err" id="{key}-err">{escape(errors[key])}</div>' if key in errors else ""

    def cls(key: str) -> str:
        return f' class="bad" aria-invalid="true" aria-describedby="{key}-err"' if key in errors else ""

    alert = f'<div class="alert" role="alert">{escape(errors["form"])}</div>' if "form" in errors else ""
    checks = "".join(
        f'<label class="check"><input type="checkbox" name="consent" value="{key}"'
        f'{" checked" if key in channels else ""}>{label}</label>'
        for key, label in CHANNEL_LABELS
    )
    body = (
        _guide_block(guide_name, store_name)
        + "<h1>留下联系方式，成为店铺会员</h1>"
        + f'<p class="intro">新品到店、尺码预留和会员活动，{escape(guide_name)}会第一时间告诉您。</p>'
        + alert
        + f'<form method="post" action="{escape(action)}" accept-charset="utf-8" novalidate>'
        + f'<input type="hidden" name="token" value="{escape(token)}">'
        + '<label class="field" for="name">您的称呼</label>'
        + f'<input type="text" id="name" name="name" maxlength="60" autocomplete="name" placeholder="例如：王女士"'
          f'{cls("name")} value="{escape(values.get("name", ""))}">'
        + err("name")
        + '<label class="field" for="phone">手机号</label>'
        + f'<input type="tel" id="phone" name="phone" maxlength="20" inputmode="tel" autocomplete="tel"'
          f' placeholder="11 位手机号"{cls("phone")} value="{escape(values.get("phone", ""))}">'
        + err("phone")
        + "<fieldset><legend>我同意导购通过以下方式联系我</legend>"
        + '<div class="hint">可多选，至少勾选一项</div>'
        + f'<div class="checks">{checks}</div>{err("consent")}</fieldset>'
        + f'<p class="fine">提交即表示您同意{escape(store_name)}保存您的称呼和手机号，仅用于导购为您提供服务。'
          "您可以随时告诉导购不再联系您。</p>"
        + '<button type="submit">提交</button></form>'
    )
    return _page(f"{store_name} · 会员登记", body, store_name)


def thanks_page(*, guide_name: str, store_name: str, welcome_text: str) -> str:
    welcome = (
        f'<div class="welcome"><span class="from">{escape(guide_name)}：</span>{escape(welcome_text)}</div>'
        if welcome_text.strip() else ""
    )
    body = (
        '<div class="done"><div class="tick" aria-hidden="true">✓</div>'
        "<h1>提交成功</h1>"
        f'<p class="intro">感谢您的信任，{escape(guide_name)}会尽快与您联系。</p></div>'
        + welcome
    )
    return _page(f"{store_name} · 提交成功", body, store_name)


def notice_page(title: str, message: str, *, icon: str = "!") -> str:
    body = (
        f'<div class="notice"><div class="icon" aria-hidden="true">{escape(icon)}</div>'
        f"<h1>{escape(title)}</h1><p class=\"intro\">{escape(message)}</p></div>"
    )
    return _page(title, body)


# the plain pages, by situation: (HTTP status, title, message)
NOTICES: dict[str, tuple[int, str, str]] = {
    "unknown": (404, "找不到这个二维码", "这个二维码无效或已被删除。请向门店导购索取新的二维码。"),
    "disabled": (410, "这个二维码已停用", "这个二维码已停止使用。请向门店导购索取新的二维码。"),
    "expired": (410, "这个二维码已过期", "这个二维码的有效期已过。请向门店导购索取新的二维码。"),
    "rate_limited": (429, "操作太频繁了", "请稍等几分钟再试。如需帮助，请直接联系门店导购。"),
    "too_large": (413, "提交的内容太长了", "请返回上一页，检查填写的内容后再提交。"),
    "bad_origin": (403, "无法提交", "请直接扫描门店的二维码打开本页面后再提交。"),
    "server_error": (500, "系统繁忙", "请稍后再扫码试试。给您带来不便，敬请谅解。"),
}


def notice(kind: str) -> tuple[int, str]:
    status, title, message = NOTICES[kind]
    return status, notice_page(title, message)
