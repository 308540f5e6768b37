"""Fixtures of the OCR tests: a synthetic scanned letter drawn with a CJK font, and the API fixtures of tests/api."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.api import conftest as api_fixtures

client = api_fixtures.client
auth = api_fixtures.auth

LETTER_LINES = (
    "信访人张三反映万安镇拖欠工资三个月",
    "要求解决，工地老板一直拖欠农民工工资",
    "请人社局督促支付。",
)
LETTER_TEXT = "".join(LETTER_LINES)

needs_ocr = pytest.mark.skipif(
    not __import__("xinfang.intake.ocr", fromlist=["available"]).available(),
    reason="OCR engine rapidocr-onnxruntime is not installed",
)


def cjk_font() -> Path | None:
    try:
        import pylopdf_fonts_zh_cn
    except ImportError:
        return None
    return next(iter(sorted(Path(pylopdf_fonts_zh_cn.__file__).parent.glob("NotoSans*SC*.[ot]tf"))), None)


@pytest.fixture(scope="session")
def letter_png() -> bytes:
    """An A4 page at 150 dpi with the letter's lines in Noto Sans SC, saved as PNG."""
    from PIL import Image, ImageDraw, ImageFont

    path = cjk_font()
    if path is None:
        pytest.skip("no CJK font: the pylopdf-fonts-zh-cn package is not installed")
    font = ImageFont.truetype(str(path), 40)
    img = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(LETTER_LINES):
        draw.text((100, 150 + i * 80), line, fill="black", font=font)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()
