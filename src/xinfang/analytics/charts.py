"""Charts for reports: matplotlib (Agg backend) with a CJK font that ships in a wheel, so Chinese renders anywhere.

Why a wheel and not the system: Debian's fonts-noto-cjk needs root, and a fresh deployment machine may have no CJK
font at all; matplotlib then draws empty boxes (tofu) and says nothing. `pylopdf-fonts-zh-cn` (SIL OFL 1.1) carries
Noto Sans SC as an .otf file inside the package; we register that file with matplotlib's font manager once per
process, and fall back to an installed Noto/WenQuanYi font where the wheel is missing. `cjk_font()` tells which file
was found, so a test (and an operator) can check it.
"""

from __future__ import annotations

import io
from functools import lru_cache
from importlib import util
from pathlib import Path
from typing import Any

SYSTEM_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)


@lru_cache(maxsize=1)
def cjk_font() -> tuple[str, Path] | None:
    """(family name, file) of the CJK font registered with matplotlib, or None when no CJK font exists."""
    from matplotlib import font_manager

    candidates: list[Path] = []
    spec = util.find_spec("pylopdf_fonts_zh_cn")
    if spec is not None and spec.origin:
        candidates.append(Path(spec.origin).parent / "NotoSansSC-Regular.otf")
    candidates += [Path(p) for p in SYSTEM_FONTS]
    for path in candidates:
        if path.is_file():
            font_manager.fontManager.addfont(str(path))
            name = font_manager.FontProperties(fname=str(path)).get_name()
            return name, path
    return None


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend with the CJK font first in the sans-serif list."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    found = cjk_font()
    if found is not None:
        family = found[0]
        current = list(matplotlib.rcParams["font.sans-serif"])
        if not current or current[0] != family:
            matplotlib.rcParams["font.sans-serif"] = [family, *[f for f in current if f != family]]
        matplotlib.rcParams["font.family"] = "sans-serif"
        matplotlib.rcParams["axes.unicode_minus"] = False
    return plt


def render(fig: Any, fmt: str = "png", *, dpi: int = 150) -> bytes:
    """The figure as PNG or SVG bytes; closes it (figures are not garbage-collected by pyplot otherwise)."""
    plt = pyplot()
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return buf.getvalue()


def bar_chart(labels: list[str], values: list[float], *, title: str, ylabel: str = "件数") -> bytes:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.bar(range(len(values)), values, color="#c0392b")
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=35, ha="right", fontsize=8)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    return render(fig)


def line_chart(
    x: list[str],
    series: dict[str, list[float]],
    *,
    title: str,
    band: tuple[list[float], list[float]] | None = None,
) -> bytes:
    """Lines per series; `band` (low, high) is drawn shaded behind them (a forecast interval)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.6))
    if band is not None:
        ax.fill_between(range(len(x)), band[0], band[1], color="#95a5a6", alpha=0.3, label="预测区间")
    for name, ys in series.items():
        ax.plot(range(len(ys)), ys, marker="o", markersize=3, label=name)
    ax.set_xticks(range(len(x)))
    ax.set_xticklabels(x, rotation=35, ha="right", fontsize=8)
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return render(fig)
