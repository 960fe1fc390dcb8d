"""Print-ready posters of acquisition codes: one layout, drawn to PDF here and by the print view.

:func:`layout_poster` places the store name, the guide's name, the QR symbol, the call to action and
a small footer on a page (A4, A5 or a 10×10 cm package card), in millimetres from the top-left
corner. :func:`write_pdf` draws layouts with reportlab (QR modules as vector rectangles, so they stay
sharp at any printer resolution); the Qt print path paints the very same layout, so what is printed
matches the PDF.

Chinese text needs a CJK font: WenQuanYi Micro Hei (or a Windows CJK TrueType font) is embedded
when found, else reportlab's built-in ``STSong-Light`` CID font, which every PDF reader supplies.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas

from guide_app.domain.errors import UserError
from guide_app.services.code_render import QUIET_ZONE, QrMatrix, logo_box, qr_matrix

MM_TO_PT = 72 / 25.4
POSTER_SIZES: dict[str, tuple[float, float]] = {"a4": (210.0, 297.0), "a5": (148.0, 210.0), "card": (100.0, 100.0)}
CJK_FONT_CANDIDATES = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("C:/Windows/Fonts/msyh.ttc", 0),
    ("C:/Windows/Fonts/simhei.ttf", 0),
)
FALLBACK_CID_FONT = "STSong-Light"
EMBEDDED_FONT_NAME = "GuideDeskCJK"

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]


@dataclass(frozen=True)
class PosterContent:
    store_name: str
    guide_name: str
    call_to_action: str
    url: str
    footer: str  # the code's label and text, so a printed poster can be traced back
    logo_png: bytes | None = None


@dataclass(frozen=True)
class PlacedText:
    text: str
    x_mm: float  # centre of the line
    y_mm: float  # top of the line box
    size_pt: float
    grey: bool = False


@dataclass(frozen=True)
class PosterLayout:
    width_mm: float
    height_mm: float
    texts: tuple[PlacedText, ...]
    qr_x_mm: float
    qr_y_mm: float
    qr_side_mm: float  # the whole symbol, quiet zone included
    matrix: QrMatrix
    logo_png: bytes | None


@cache
def cjk_font(candidates: tuple[tuple[str, int], ...] = CJK_FONT_CANDIDATES) -> str:
    """Register and return the name of the CJK font posters use (see the module note)."""
    for i, (path, index) in enumerate(candidates):
        if not Path(path).is_file():
            continue
        name = f"{EMBEDDED_FONT_NAME}{i}"
        try:
            pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
        except (TTFError, OSError):
            continue  # e.g. a CFF-outline font reportlab cannot embed: try the next one
        return name
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_CID_FONT))
    return FALLBACK_CID_FONT


def _width_mm(text: str, size_pt: float, font: str) -> float:
    return pdfmetrics.stringWidth(text, font, size_pt) / MM_TO_PT


def _fit_size(text: str, size_pt: float, max_mm: float, font: str, min_pt: float = 5.0) -> float:
    """Shrink ``size_pt`` until ``text`` fits ``max_mm`` (long store names stay on one line)."""
    width = _width_mm(text, size_pt, font)
    if width <= max_mm or not text:
        return size_pt
    return max(min_pt, size_pt * max_mm / width * 0.98)


def _wrap(text: str, size_pt: float, max_mm: float, font: str, max_lines: int) -> list[str]:
    """Break ``text`` into at most ``max_lines`` lines by width (CJK has no spaces to break at)."""
    lines: list[str] = []
    current = ""
    for ch in text:
        if _width_mm(current + ch, size_pt, font) > max_mm and current:
            lines.append(current)
            current = ch.lstrip()
        else:
            current += ch
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], "".join(lines[max_lines - 1:])]
    return lines


def layout_poster(content: PosterContent, size: str) -> PosterLayout:
    if size not in POSTER_SIZES:
        raise UserError("code.bad_poster_size", value=size)
    font = cjk_font()
    w, h = POSTER_SIZES[size]
    unit = min(w, h)  # fonts and margins scale with the short side
    margin = unit * 0.08
    text_w = w - 2 * margin
    pt_mm = 1 / MM_TO_PT
    line = 1.25  # line box height as a multiple of the font size

    store_pt = _fit_size(content.store_name, unit * 0.19, text_w, font)
    guide_pt = _fit_size(content.guide_name, unit * 0.12, text_w, font)
    cta_pt = unit * 0.13
    cta_lines = _wrap(content.call_to_action, cta_pt, text_w, font, 2)
    cta_lines = [ln for ln in cta_lines if ln]
    if len(cta_lines) == 2:
        cta_pt = min(cta_pt, *(_fit_size(ln, cta_pt, text_w, font) for ln in cta_lines))
    footer_pt = _fit_size(content.footer, unit * 0.06, text_w, font)

    blocks_mm = [store_pt * line * pt_mm, guide_pt * line * pt_mm]
    cta_mm = len(cta_lines) * cta_pt * line * pt_mm
    footer_mm = footer_pt * line * pt_mm
    gaps = 4
    gap = unit * 0.035
    qr_side = min(w * 0.7, h - 2 * margin - sum(blocks_mm) - cta_mm - footer_mm - gaps * gap)
    if qr_side < unit * 0.3:
        raise UserError("code.poster_text_too_long")
    # spread what is left evenly, so an A4 poster is not crammed at the top
    spare = h - 2 * margin - sum(blocks_mm) - cta_mm - footer_mm - qr_side
    gap = spare / gaps
    y = margin
    texts: list[PlacedText] = []
    if content.store_name:
        texts.append(PlacedText(content.store_name, w / 2, y, store_pt))
    y += blocks_mm[0]
    if content.guide_name:
        texts.append(PlacedText(content.guide_name, w / 2, y, guide_pt))
    y += blocks_mm[1] + gap
    qr_y = y
    y += qr_side + gap
    for ln in cta_lines:
        texts.append(PlacedText(ln, w / 2, y, cta_pt))
        y += cta_pt * line * pt_mm
    y += gap
    texts.append(PlacedText(content.footer, w / 2, max(y, h - margin - footer_mm), footer_pt, grey=True))
    matrix = qr_matrix(content.url, with_logo=content.logo_png is not None)
    return PosterLayout(w, h, tuple(texts), (w - qr_side) / 2, qr_y, qr_side, matrix, content.logo_png)


def draw_pdf_page(canvas: Canvas, layout: PosterLayout) -> None:
    font = cjk_font()
    w_pt, h_pt = layout.width_mm * MM_TO_PT, layout.height_mm * MM_TO_PT
    canvas.setPageSize((w_pt, h_pt))
    for t in layout.texts:
        canvas.setFillGray(0.35 if t.grey else 0.0)
        canvas.setFont(font, t.size_pt)
        # reportlab's y is the baseline from the bottom; put the baseline ~0.9 em below the box top
        baseline = h_pt - t.y_mm * MM_TO_PT - t.size_pt * 0.95
        canvas.drawCentredString(t.x_mm * MM_TO_PT, baseline, t.text)
    n = layout.matrix.size
    module = layout.qr_side_mm * MM_TO_PT / n
    x0 = layout.qr_x_mm * MM_TO_PT
    top = h_pt - layout.qr_y_mm * MM_TO_PT
    canvas.setFillGray(0.0)
    path = canvas.beginPath()
    for x, y, length in layout.matrix.runs():
        path.rect(x0 + x * module, top - (y + 1) * module, length * module, module)
    canvas.drawPath(path, stroke=0, fill=1)
    if layout.logo_png is not None:
        side = layout.qr_side_mm * MM_TO_PT
        offset, pad_side, inset = logo_box(side, module * QUIET_ZONE)
        canvas.setFillGray(1.0)
        canvas.rect(x0 + offset, top - offset - pad_side, pad_side, pad_side, stroke=0, fill=1)
        logo_side = pad_side - 2 * inset
        canvas.drawImage(ImageReader(io.BytesIO(layout.logo_png)), x0 + offset + inset,
                         top - offset - inset - logo_side, logo_side, logo_side, mask="auto",
                         preserveAspectRatio=True, anchor="c")
    canvas.showPage()


def write_pdf(
    contents: Sequence[PosterContent],
    path: Path,
    size: str,
    *,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    title: str = "",
) -> int:
    """One page per code into ``path``; written to a temporary file first, so a cancelled or failed
    export never leaves half a PDF behind. Returns the number of pages."""
    if not contents:
        raise UserError("code.nothing_selected")
    path = Path(path)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=".poster-", suffix=".pdf", dir=path.parent)
    except OSError as exc:
        raise UserError("code.write_failed", path=str(path), reason=exc.strerror or str(exc)) from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        canvas = Canvas(str(tmp), pageCompression=1)
        canvas.setTitle(title)
        canvas.setCreator("Guide Desk")
        total = len(contents)
        for i, content in enumerate(contents):
            if cancelled is not None and cancelled():
                raise UserError("code.export_cancelled")
            draw_pdf_page(canvas, layout_poster(content, size))
            if progress is not None:
                progress(i + 1, total)
        canvas.save()
        os.replace(tmp, path)
    except OSError as exc:
        raise UserError("code.write_failed", path=str(path), reason=exc.strerror or str(exc)) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return len(contents)


def pdf_bytes(content: PosterContent, size: str) -> bytes:
    out = io.BytesIO()
    canvas = Canvas(out, pageCompression=1)
    draw_pdf_page(canvas, layout_poster(content, size))
    canvas.save()
    return out.getvalue()
