"""QR images of acquisition codes: the module matrix, PNG and SVG at a chosen size, and centre logos.

Error correction is H (30 % recoverable) when a logo covers the centre, M otherwise, so a logo never
costs a scan. A logo is kept small (at most a fifth of the symbol's width) and sits on a white pad.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass
from functools import lru_cache
from xml.sax.saxutils import quoteattr

import qrcode
from PIL import Image, UnidentifiedImageError
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_M

from guide_app.domain.codes import LOGO_MAX_BYTES, LOGO_MAX_PX
from guide_app.domain.errors import UserError

QUIET_ZONE = 4  # modules of white border the QR standard asks for
LOGO_SHARE = 0.2  # logo width as a share of the symbol (quiet zone excluded)
LOGO_PAD = 0.1  # white pad around the logo, as a share of the logo width
MIN_PX = 64
MAX_PX = 8000
PNG_SIZES = (256, 512, 1024, 2048)  # offered in the export dialog; any size in [MIN_PX, MAX_PX] works


@dataclass(frozen=True)
class QrMatrix:
    """Dark modules of one symbol, quiet zone included: ``rows[y][x]`` is True for dark."""

    rows: tuple[tuple[bool, ...], ...]
    level: str  # "H" or "M"

    @property
    def size(self) -> int:
        return len(self.rows)

    def runs(self) -> list[tuple[int, int, int]]:
        """Horizontal runs of dark modules as ``(x, y, length)``: far fewer shapes than modules."""
        out: list[tuple[int, int, int]] = []
        for y, row in enumerate(self.rows):
            x = 0
            n = len(row)
            while x < n:
                if row[x]:
                    start = x
                    while x < n and row[x]:
                        x += 1
                    out.append((start, y, x - start))
                else:
                    x += 1
        return out


def qr_matrix(url: str, *, with_logo: bool) -> QrMatrix:
    qr = qrcode.QRCode(
        error_correction=ERROR_CORRECT_H if with_logo else ERROR_CORRECT_M, border=QUIET_ZONE, box_size=1
    )
    qr.add_data(url)
    qr.make(fit=True)
    return QrMatrix(tuple(map(tuple, qr.get_matrix())), "H" if with_logo else "M")


def logo_box(symbol_side: float, quiet: float) -> tuple[float, float, float]:
    """``(pad_offset, pad_side, logo_inset)`` of the centre logo for a symbol drawn ``symbol_side`` wide
    with ``quiet`` of quiet zone each side; offsets are from the drawing's top-left corner."""
    inner = symbol_side - 2 * quiet
    logo_side = inner * LOGO_SHARE
    pad_side = logo_side * (1 + 2 * LOGO_PAD)
    offset = (symbol_side - pad_side) / 2
    return offset, pad_side, logo_side * LOGO_PAD


def check_size(size_px: int) -> None:
    if not MIN_PX <= size_px <= MAX_PX:
        raise UserError("code.bad_size", low=MIN_PX, high=MAX_PX, value=size_px)


def decode_logo(logo_b64: str) -> bytes | None:
    return base64.b64decode(logo_b64) if logo_b64 else None


def _symbol_image(matrix: QrMatrix, size_px: int, mode: str) -> tuple[Image.Image, int, int]:
    """The symbol at a whole number of pixels per module, centred on a ``size_px`` white square
    (whole pixels keep every module the same width, which scanners like). Mode "1" (a 1-bit PNG,
    small and quick to encode) unless a colour logo goes on top."""
    n = matrix.size
    box = size_px // n
    if box < 1:
        raise UserError("code.size_too_small", value=size_px, need=n)
    small = Image.frombytes("L", (n, n), bytes(0 if dark else 255 for row in matrix.rows for dark in row))
    symbol = small.resize((n * box, n * box), Image.Resampling.NEAREST).convert(mode)
    canvas = Image.new(mode, (size_px, size_px), "white" if mode == "RGB" else 1)
    margin = (size_px - n * box) // 2
    canvas.paste(symbol, (margin, margin))
    return canvas, margin, n * box


def render_png(url: str, size_px: int, logo_png: bytes | None = None) -> bytes:
    """A square PNG of ``size_px`` pixels holding ``url``."""
    check_size(size_px)
    matrix = qr_matrix(url, with_logo=logo_png is not None)
    canvas, margin, side = _symbol_image(matrix, size_px, "1" if logo_png is None else "RGB")
    if logo_png is not None:
        quiet = side * QUIET_ZONE / matrix.size
        offset, pad_side, inset = logo_box(side, quiet)
        x0 = margin + round(offset)
        pad = round(pad_side)
        canvas.paste((255, 255, 255), (x0, x0, x0 + pad, x0 + pad))
        logo_px = max(1, round(pad_side - 2 * inset))
        logo = _logo_at(logo_png, logo_px)
        at = x0 + round(inset)
        canvas.paste(logo, (at, at), logo)
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=False)
    return out.getvalue()


def render_svg(url: str, size_px: int, logo_png: bytes | None = None) -> str:
    """An SVG of ``size_px`` user units holding ``url``; modules are one path of row runs."""
    check_size(size_px)
    matrix = qr_matrix(url, with_logo=logo_png is not None)
    n = matrix.size
    d = "".join(f"M{x} {y}h{length}v1h-{length}z" for x, y, length in matrix.runs())
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1" '
        f'width="{size_px}" height="{size_px}" viewBox="0 0 {n} {n}" shape-rendering="crispEdges">',
        f'<rect x="0" y="0" width="{n}" height="{n}" fill="#ffffff"/>',
        f'<path fill="#000000" d="{d}"/>',
    ]
    if logo_png is not None:
        offset, pad_side, inset = logo_box(float(n), float(QUIET_ZONE))
        href = "data:image/png;base64," + base64.b64encode(_normalized_logo_png(logo_png)).decode("ascii")
        logo_side = pad_side - 2 * inset
        parts.append(f'<rect x="{offset:.3f}" y="{offset:.3f}" width="{pad_side:.3f}" height="{pad_side:.3f}" '
                     'fill="#ffffff"/>')
        parts.append(f'<image x="{offset + inset:.3f}" y="{offset + inset:.3f}" width="{logo_side:.3f}" '
                     f'height="{logo_side:.3f}" preserveAspectRatio="xMidYMid meet" '
                     f'xlink:href={quoteattr(href)}/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _open_logo(data: bytes) -> Image.Image:
    try:
        opened = Image.open(io.BytesIO(data))
        opened.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise UserError("code.logo_unreadable") from exc
    img = opened.convert("RGBA")
    if img.width != img.height:  # centre it on a transparent square so it is never stretched
        side = max(img.width, img.height)
        square = Image.new("RGBA", (side, side), (255, 255, 255, 0))
        square.paste(img, ((side - img.width) // 2, (side - img.height) // 2))
        img = square
    return img


@lru_cache(maxsize=8)
def _logo_at(data: bytes, px: int) -> Image.Image:
    """The logo scaled for one symbol size; cached because a batch puts one logo on many codes."""
    return _open_logo(data).resize((px, px), Image.Resampling.LANCZOS)


def _normalized_logo_png(data: bytes) -> bytes:
    out = io.BytesIO()
    _open_logo(data).save(out, format="PNG")
    return out.getvalue()


def prepare_logo(data: bytes) -> str:
    """Any image file the guide picks, as the base64 of a small square PNG that fits a synced row."""
    img = _open_logo(data)
    side = min(img.width, LOGO_MAX_PX)
    while True:
        out = io.BytesIO()
        img.resize((side, side), Image.Resampling.LANCZOS).save(out, format="PNG", optimize=True)
        text = base64.b64encode(out.getvalue()).decode("ascii")
        if len(text) <= LOGO_MAX_BYTES:
            return text
        if side <= 32:
            raise UserError("code.logo_too_big")
        side = side * 3 // 4


def check_logo(logo_b64: str) -> None:
    """A stored logo must be base64 of a readable image within the row limit."""
    if not logo_b64:
        return
    if len(logo_b64) > LOGO_MAX_BYTES:
        raise UserError("code.logo_too_big")
    try:
        raw = base64.b64decode(logo_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UserError("code.logo_unreadable") from exc
    _open_logo(raw)
