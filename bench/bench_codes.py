"""Rendering acquisition codes: 1,000 PNGs and a 100-page poster PDF, next to the bare qrcode library.

    python -m bench.bench_codes [--codes 1000] [--pages 100] [--size 512]

App path: :func:`render_png` (matrix, whole-pixel modules, PNG) for each code, with and without a
centre logo, and :func:`write_pdf` (poster layout, CJK text, vector modules) for the poster PDF.
Raw limit, measured in the same run on the same codes: the qrcode library alone making the same
symbol (same error-correction level) at the same pixel size and saving it as PNG
(``QRCode(...).make_image().save``), and for the PDF that same bare PNG placed on each page of a
reportlab canvas with no text.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_M
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from bench.figures import record
from guide_app.domain.codes import landing_url, new_code_text
from guide_app.services.code_posters import PosterContent, cjk_font, write_pdf
from guide_app.services.code_render import qr_matrix, render_png

BASE = "https://hq.example.com"


REPEAT = [2]  # best of N runs: the figure least disturbed by other work on the machine


def timed(fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(REPEAT[0]):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def bare_png(url: str, size: int, level: int = ERROR_CORRECT_M) -> bytes:
    """What the qrcode library does on its own for a symbol of about ``size`` pixels."""
    qr = qrcode.QRCode(error_correction=level, border=4, box_size=1)
    qr.add_data(url)
    qr.make(fit=True)
    qr.box_size = max(1, size // (qr.modules_count + 8))
    out = io.BytesIO()
    qr.make_image().save(out)
    return out.getvalue()


def logo_png() -> bytes:
    img = Image.new("RGB", (128, 128), (200, 30, 40))
    ImageDraw.Draw(img).ellipse((16, 16, 112, 112), fill=(20, 40, 200))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def bare_pdf(urls: list[str], path: Path, size: int) -> None:
    canvas = Canvas(str(path), pagesize=A4, pageCompression=1)
    for url in urls:
        canvas.drawImage(ImageReader(io.BytesIO(bare_png(url, size))), 100, 300, 400, 400)
        canvas.showPage()
    canvas.save()


def row(name: str, seconds: float, n: int, raw: float | None = None) -> None:
    ratio = f"{seconds / raw:5.2f}×" if raw else "   —  "
    print(f"{name:<44} {seconds:8.3f} s  {seconds / n * 1000:7.2f} ms each  {ratio}")
    if raw:  # the app rows: each next to its raw limit
        record(name.removeprefix("app: "), seconds, "s", raw=raw, note=f"{seconds / n * 1000:.2f} ms each")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=2, help="best of N runs of each measurement")
    args = parser.parse_args()
    REPEAT[0] = max(1, args.repeat)

    taken: set[str] = set()
    codes = []
    for _ in range(args.codes):
        codes.append(new_code_text(taken))
        taken.add(codes[-1])
    urls = [landing_url(BASE, c) for c in codes]
    logo = logo_png()
    cjk_font()  # font registration happens once per process; keep it out of the per-page figure
    qr_matrix(urls[0], with_logo=False)

    print(f"{args.codes} codes at {args.size}px, {args.pages}-page A4 poster PDF, best of {REPEAT[0]} "
          f"(symbol version {(qr_matrix(urls[0], with_logo=False).size - 8 - 17) // 4}, "
          f"{len(urls[0])}-char URL)")
    print(f"{'':<44} {'time':>10}  {'per code':>16}  vs raw")
    raw_png = timed(lambda: [bare_png(u, args.size) for u in urls])
    row("raw: qrcode library → PNG", raw_png, args.codes)
    app_png = timed(lambda: [render_png(u, args.size) for u in urls])
    row("app: render_png (level M)", app_png, args.codes, raw_png)
    raw_h = timed(lambda: [bare_png(u, args.size, ERROR_CORRECT_H) for u in urls])
    row("raw: qrcode library → PNG, level H", raw_h, args.codes)
    app_logo = timed(lambda: [render_png(u, args.size, logo) for u in urls])
    row("app: render_png with centre logo (level H)", app_logo, args.codes, raw_h)

    pages = urls[: args.pages]
    contents = [PosterContent("悦享·上海南京西路旗舰店", "专属导购：王芳", "微信扫一扫，添加我为您的专属导购",
                              u, f"柜台 · {u.rsplit('/', 1)[-1]}") for u in pages]
    with tempfile.TemporaryDirectory() as tmp:
        raw_pdf = timed(lambda: bare_pdf(pages, Path(tmp) / "raw.pdf", args.size))
        row(f"raw: qrcode PNG on {len(pages)} reportlab pages", raw_pdf, len(pages))
        app_pdf = timed(lambda: write_pdf(contents, Path(tmp) / "app.pdf", "a4"))
        row(f"app: {len(pages)}-page poster PDF (text + vector QR)", app_pdf, len(pages), raw_pdf)
        size_kb = (Path(tmp) / "app.pdf").stat().st_size / 1024
    print(f"poster PDF size: {size_kb:.0f} KiB ({size_kb / len(pages):.1f} KiB a page)")


if __name__ == "__main__":
    main()
