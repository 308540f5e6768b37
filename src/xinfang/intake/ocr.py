"""Offline OCR of scanned letters (来信扫描件): PNG/JPEG/TIFF images, and PDF pages rasterised first.

The engine is RapidOCR (`rapidocr-onnxruntime`, Apache-2.0): PP-OCRv4 detection + recognition models shipped inside
the wheel and run by onnxruntime on the CPU; nothing is downloaded at run time. Loading it costs ~0.3 s and a few
hundred MB, a page takes seconds: call it from a background job (`ocr.letter`) or the CLI, never in a web request.
The engine is loaded lazily, once per process (`_engine`, lru_cache).

Bounds: inputs over `MAX_BYTES` are refused, images are downscaled so their longer side is at most `MAX_SIDE`
pixels (decompression bombs are refused by Pillow's pixel limit), PDFs are read up to `MAX_PDF_PAGES` pages.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from xinfang.cases.attachments import sniff_content_type
from xinfang.errors import InvalidInput

MAX_BYTES = 20 * 1024 * 1024
MAX_SIDE = 3500  # pixels: an A4 page at 300 dpi is 2480 x 3508
MAX_PIXELS = 60_000_000  # Pillow refuses larger images before decoding them
MAX_PDF_PAGES = 10
PDF_DPI = 200
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/tiff"})
PDF_TYPE = "application/pdf"
OCR_TYPES = IMAGE_TYPES | {PDF_TYPE}


@dataclass(frozen=True)
class OcrLine:
    text: str
    confidence: float
    box: list[list[float]] = field(default_factory=list)  # four corners, pixels of the (downscaled) page


@dataclass(frozen=True)
class OcrResult:
    text: str  # the lines in reading order, one per line, pages separated by a blank line
    lines: list[OcrLine]
    mean_confidence: float  # 0..1, mean over lines (0.0 when nothing was recognised)
    pages: int = 1


def available() -> bool:
    """Whether the OCR engine package is installed (the feature is optional at deployment)."""
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def _engine() -> Any:
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:  # pragma: no cover - depends on the deployment
        raise InvalidInput("未安装文字识别组件(rapidocr-onnxruntime)", code="ocr.unavailable") from exc
    return RapidOCR()


def is_ocr_type(content_type: str) -> bool:
    return content_type in OCR_TYPES


def ocr_image(data: bytes, filename: str = "scan") -> OcrResult:
    """Recognise the text of a scanned letter. Raises InvalidInput for anything but an image or a PDF."""
    if not data:
        raise InvalidInput("文件为空", code="ocr.empty")
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"文件超过识别上限({MAX_BYTES // (1024 * 1024)} MB)", code="ocr.too_large")
    try:
        ctype = sniff_content_type(data, filename)
    except InvalidInput:
        ctype = ""
    if ctype not in OCR_TYPES:
        raise InvalidInput("只能识别图片(PNG、JPEG、TIFF)或 PDF 扫描件", code="ocr.not_an_image")
    pages = _pdf_pages(data) if ctype == PDF_TYPE else [_decode(data)]
    lines: list[OcrLine] = []
    texts: list[str] = []
    for page in pages:
        page_lines = _recognise(page)
        lines.extend(page_lines)
        texts.append("\n".join(line.text for line in page_lines))
    mean = sum(line.confidence for line in lines) / len(lines) if lines else 0.0
    return OcrResult(
        text="\n\n".join(t for t in texts if t), lines=lines, mean_confidence=round(mean, 4), pages=len(pages)
    )


def _decode(data: bytes) -> Any:
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as opened:
            # phone photos carry their rotation in EXIF
            img = ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, Image.DecompressionBombError, ValueError) as exc:
        raise InvalidInput("无法读取图片", code="ocr.unreadable") from exc
    return _bounded(img)


def _bounded(img: Any) -> Any:
    from PIL import Image

    longest = max(img.size)
    if longest > MAX_SIDE:
        scale = MAX_SIDE / longest
        img = img.resize(
            (max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.Resampling.LANCZOS
        )
    return img


def _pdf_pages(data: bytes) -> list[Any]:
    try:
        import pypdfium2 as pdfium
    except ImportError as exc:  # pragma: no cover - depends on the deployment
        raise InvalidInput("未安装 PDF 组件(pypdfium2),请上传图片", code="ocr.pdf_unavailable") from exc
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise InvalidInput("无法读取 PDF", code="ocr.unreadable") from exc
    try:
        pages = []
        for index in range(min(len(pdf), MAX_PDF_PAGES)):
            page = pdf[index]
            pages.append(_bounded(page.render(scale=PDF_DPI / 72).to_pil().convert("RGB")))
            page.close()
        return pages
    finally:
        pdf.close()


def _recognise(img: Any) -> list[OcrLine]:
    import numpy as np

    bgr = np.ascontiguousarray(np.asarray(img)[:, :, ::-1])  # the engine expects OpenCV's BGR order
    result, _elapsed = _engine()(bgr)
    out = []
    for box, text, score in result or []:
        if text and text.strip():
            out.append(
                OcrLine(
                    text=text.strip(),
                    confidence=float(score),
                    box=[[float(x), float(y)] for x, y in box],
                )
            )
    return out
