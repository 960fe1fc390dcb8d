"""Exported codes decode with a real decoder (zxing-cpp) to exactly their landing URL: PNG, PDF
posters (rasterised by poppler's pdftoppm), batches, with and without a centre logo."""

from __future__ import annotations

import base64
import dataclasses
import io
import subprocess
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from guide_app.domain.errors import UserError
from guide_app.services import code_posters
from guide_app.services.code_export import (
    ExportOptions,
    export_batch_pdf,
    export_folder,
    export_one,
    file_stem,
)
from guide_app.services.code_posters import FALLBACK_CID_FONT, PosterContent, cjk_font, write_pdf
from guide_app.services.code_render import prepare_logo, qr_matrix, render_png
from guide_app.services.codes import LIVE, SYNCED, CodeInfo

URL = "https://hq.example.com/a/23456789abcdefghj"


def _logo_png() -> bytes:
    img = Image.new("RGB", (240, 160), (200, 30, 40))
    ImageDraw.Draw(img).ellipse((30, 10, 170, 150), fill=(20, 40, 200))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


LOGO_B64 = prepare_logo(_logo_png())


def _info(code: str = "23456789abcdefghj", logo: str = "", label: str = "柜台码") -> CodeInfo:
    return CodeInfo(
        id=f"id-{code}", code=code, url=f"https://hq.example.com/a/{code}", store_id="s1", store_name="悦享·南京西路店",
        guide_id="g1", guide_name="王芳", label=label, channel="counter", campaign_id="", auto_tag_ids=(),
        welcome_text="", expires_at=None, disabled=False, logo=logo, sync_state=SYNCED, reject_reason="",
        life=LIVE, scans=0, new_customers=0,
    )


def _decode(img: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(img)]


def _pdf_pages(path: Path, tmp_path: Path, dpi: int = 100) -> list[Image.Image]:
    prefix = tmp_path / f"{path.stem}-page"
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(path), str(prefix)], check=True)
    return [Image.open(p) for p in sorted(tmp_path.glob(f"{prefix.name}-*.png"))]


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout


@pytest.mark.parametrize("size", [128, 512, 1000])
@pytest.mark.parametrize("with_logo", [False, True])
def test_png_decodes_to_the_landing_url(size: int, with_logo: bool) -> None:
    png = render_png(URL, size, base64.b64decode(LOGO_B64) if with_logo else None)
    img = Image.open(io.BytesIO(png))
    assert img.size == (size, size)
    (result,) = zxingcpp.read_barcodes(img)
    assert result.text == URL
    assert result.ec_level == ("H" if with_logo else "M")


def test_logo_raises_the_error_correction_level() -> None:
    assert qr_matrix(URL, with_logo=True).level == "H"
    assert qr_matrix(URL, with_logo=False).level == "M"


def test_size_limits_are_user_errors() -> None:
    for bad in (10, 100_000):
        with pytest.raises(UserError) as err:
            render_png(URL, bad)
        assert err.value.key == "code.bad_size"


@pytest.mark.parametrize("poster", ["a4", "a5", "card"])
def test_pdf_poster_decodes_and_shows_the_chinese_text(poster: str, tmp_path: Path) -> None:
    path = export_one(_info(logo=LOGO_B64), tmp_path / f"{poster}.pdf", ExportOptions(fmt="pdf", poster=poster))
    (page,) = _pdf_pages(path, tmp_path)
    assert _decode(page) == [URL]
    text = _pdf_text(path)
    for words in ("悦享·南京西路店", "专属导购：王芳", "柜台码"):
        assert words in text.replace("\n", "")
    w_mm, h_mm = code_posters.POSTER_SIZES[poster]
    assert abs(page.width - w_mm / 25.4 * 100) <= 2 and abs(page.height - h_mm / 25.4 * 100) <= 2


def test_fallback_cid_font_renders_chinese_when_no_truetype_font_is_found(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    assert cjk_font(()) == FALLBACK_CID_FONT
    monkeypatch.setattr(code_posters, "cjk_font", lambda: cjk_font(()))
    content = PosterContent("南京西路店", "专属导购：李娜", "扫码领取新客礼", URL, "海报 · x")
    path = tmp_path / "cid.pdf"
    write_pdf([content], path, "a5")
    assert "扫码领取新客礼" in _pdf_text(path)
    assert _decode(_pdf_pages(path, tmp_path)[0]) == [URL]


def test_batch_pdf_has_one_decodable_page_per_code(tmp_path: Path) -> None:
    infos = [_info(code=c * 17, label=f"码{i}") for i, c in enumerate("abc")]
    seen: list[tuple[int, int]] = []
    pages = export_batch_pdf(infos, tmp_path / "all.pdf", ExportOptions(fmt="pdf", poster="card"),
                             progress=lambda d, t: seen.append((d, t)))
    assert pages == 3 and seen[-1] == (3, 3)
    decoded = [_decode(p) for p in _pdf_pages(tmp_path / "all.pdf", tmp_path)]
    assert decoded == [[i.url] for i in infos]


def test_cancelled_batch_leaves_no_half_written_pdf(tmp_path: Path) -> None:
    infos = [_info(code=c * 17) for c in "abcd"]
    calls = iter([False, False, True])
    with pytest.raises(UserError) as err:
        export_batch_pdf(infos, tmp_path / "x.pdf", ExportOptions(fmt="pdf"), cancelled=lambda: next(calls))
    assert err.value.key == "code.export_cancelled"
    assert list(tmp_path.iterdir()) == []


def test_folder_export_writes_named_files_that_decode(tmp_path: Path) -> None:
    infos = [_info(code="a" * 17, label="柜台/前台"), _info(code="b" * 17, label="包裹卡", logo=LOGO_B64)]
    files = export_folder(infos, tmp_path / "out", ExportOptions(fmt="png", size_px=400))
    assert [f.name for f in files] == ["王芳-柜台_前台-" + "a" * 17 + ".png", "王芳-包裹卡-" + "b" * 17 + ".png"]
    assert [_decode(Image.open(f)) for f in files] == [[i.url] for i in infos]
    svgs = export_folder(infos, tmp_path / "svg", ExportOptions(fmt="svg", size_px=400))
    assert all(f.read_text(encoding="utf-8").startswith("<?xml") for f in svgs)


def test_a_code_without_hq_address_is_not_exported(tmp_path: Path) -> None:
    info = dataclasses.replace(_info(), url="")
    with pytest.raises(UserError) as err:
        export_one(info, tmp_path / "x.png", ExportOptions())
    assert err.value.key == "code.no_public_url"
    assert file_stem(dataclasses.replace(_info(), guide_name="", label="")) == "23456789abcdefghj"


def test_unwritable_target_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        export_one(_info(), tmp_path / "missing" / "x.pdf", ExportOptions(fmt="pdf"))
    assert err.value.key == "code.write_failed"


def test_logo_is_shrunk_to_a_small_square_png_and_junk_is_refused() -> None:
    big = Image.effect_noise((1200, 800), 120).convert("RGB")
    out = io.BytesIO()
    big.save(out, format="PNG")
    b64 = prepare_logo(out.getvalue())
    img = Image.open(io.BytesIO(base64.b64decode(b64)))
    assert img.format == "PNG" and img.width == img.height <= 256 and len(b64) <= 48_000
    with pytest.raises(UserError) as err:
        prepare_logo(b"not an image")
    assert err.value.key == "code.logo_unreadable"
