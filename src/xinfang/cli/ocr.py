"""`xinfang ocr FILE`: recognise the text of a scanned letter offline and print it as JSON (no database)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from xinfang.cli import handles_errors


@handles_errors
def ocr(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="PNG, JPEG, TIFF or PDF scan")],
    lines: Annotated[bool, typer.Option("--lines", help="also print each line with its confidence")] = False,
) -> None:
    """Recognise a scanned letter (offline PP-OCR models): prints {"text": ..., "confidence": ...}."""
    from xinfang.errors import InvalidInput
    from xinfang.intake.ocr import MAX_BYTES, ocr_image

    if file.stat().st_size > MAX_BYTES:
        raise InvalidInput(f"文件超过识别上限({MAX_BYTES // (1024 * 1024)} MB)", code="ocr.too_large")
    result = ocr_image(file.read_bytes(), file.name)
    out: dict[str, object] = {
        "text": result.text,
        "confidence": result.mean_confidence,
        "pages": result.pages,
    }
    if lines:
        out["lines"] = [{"text": line.text, "confidence": round(line.confidence, 4)} for line in result.lines]
    typer.echo(json.dumps(out, ensure_ascii=False))
