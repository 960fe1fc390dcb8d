"""Exporting acquisition codes to files: PNG and SVG at a chosen size, PDF posters, and batches
(one PDF of many pages, or a folder of files). Long batches take ``progress(done, total)`` and
``cancelled()`` callbacks, so the view runs them off the GUI thread with a progress dialog.

A code without HQ's public address (this PC never signed in) cannot be exported: its QR would hold
no working URL.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from guide_app.domain.codes import custom_channel_name
from guide_app.domain.errors import UserError
from guide_app.i18n import tr
from guide_app.services.code_posters import Cancelled, PosterContent, Progress, write_pdf
from guide_app.services.code_render import decode_logo, render_png, render_svg
from guide_app.services.codes import CodeInfo

FORMATS = ("png", "svg", "pdf")
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


@dataclass(frozen=True)
class ExportOptions:
    fmt: str = "png"  # png | svg | pdf (poster)
    size_px: int = 1024  # png and svg
    poster: str = "a4"  # a4 | a5 | card
    call_to_action: str = ""  # "" → the default wording


def channel_name(channel: str, lang: str | None = None) -> str:
    custom = custom_channel_name(channel)
    return custom if custom is not None else tr(f"code.channel.{channel}", lang=lang)


def poster_content(info: CodeInfo, call_to_action: str = "") -> PosterContent:
    _require_url(info)
    return PosterContent(
        store_name=info.store_name,
        guide_name=tr("code.poster.guide", name=info.guide_name) if info.guide_name else "",
        call_to_action=call_to_action.strip() or tr("code.poster.cta_default"),
        url=info.url,
        footer=f"{info.label} · {info.code}",
        logo_png=decode_logo(info.logo),
    )


def _require_url(info: CodeInfo) -> None:
    if not info.url:
        raise UserError("code.no_public_url")


def file_stem(info: CodeInfo) -> str:
    """A file name people recognise: guide, label, and the code (unique, so names never clash)."""
    parts = [p for p in (info.guide_name, info.label) if p]
    stem = "-".join([*parts, info.code])
    return _UNSAFE.sub("_", stem).strip(" .") or info.code


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.part")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError("code.write_failed", path=str(path), reason=exc.strerror or str(exc)) from exc


def export_one(info: CodeInfo, path: Path, options: ExportOptions) -> Path:
    """Write one code to ``path`` in ``options.fmt``."""
    _require_url(info)
    path = Path(path)
    if options.fmt == "png":
        _write(path, render_png(info.url, options.size_px, decode_logo(info.logo)))
    elif options.fmt == "svg":
        _write(path, render_svg(info.url, options.size_px, decode_logo(info.logo)).encode("utf-8"))
    elif options.fmt == "pdf":
        write_pdf([poster_content(info, options.call_to_action)], path, options.poster, title=info.label)
    else:
        raise UserError("code.bad_format", value=options.fmt)
    return path


def export_batch_pdf(
    infos: Sequence[CodeInfo], path: Path, options: ExportOptions, *,
    progress: Progress | None = None, cancelled: Cancelled | None = None,
) -> int:
    """Many codes as one poster PDF, a page each. Returns the page count."""
    contents = [poster_content(i, options.call_to_action) for i in infos]
    return write_pdf(contents, Path(path), options.poster, progress=progress, cancelled=cancelled,
                     title=tr("code.poster.batch_title"))


def export_folder(
    infos: Sequence[CodeInfo], folder: Path, options: ExportOptions, *,
    progress: Progress | None = None, cancelled: Cancelled | None = None,
) -> list[Path]:
    """Each code as its own file in ``folder``; files written before a cancel are kept."""
    if not infos:
        raise UserError("code.nothing_selected")
    for info in infos:
        _require_url(info)
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError("code.write_failed", path=str(folder), reason=exc.strerror or str(exc)) from exc
    written: list[Path] = []
    for n, info in enumerate(infos, start=1):
        if cancelled is not None and cancelled():
            raise UserError("code.export_cancelled")
        written.append(export_one(info, folder / f"{file_stem(info)}.{options.fmt}", options))
        if progress is not None:
            progress(n, len(infos))
    return written
