"""PDF helpers: the embedded Chinese font every PDF of the platform uses (ReportLab).

ReportLab embeds a subset of a TrueType font in each PDF, so every viewer shows the same Chinese text. The font
is found on the system (settings.PDF_FONT_PATH, else the usual Debian locations); without one, ``cjk_font()``
raises ``FontMissing`` with the sentence that names the package to install.
"""

import os
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

FONT_NAME = "DangjianCJK"

# (path, subfont index inside a .ttc collection)
CANDIDATES = [
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
]


class FontMissing(RuntimeError):
    pass


_registered: str | None = None


def font_path() -> tuple[str, int] | None:
    configured = getattr(settings, "PDF_FONT_PATH", "") or os.environ.get("PDF_FONT_PATH", "")
    if configured:
        return (configured, 0) if Path(configured).is_file() else None
    for path, index in CANDIDATES:
        if Path(path).is_file():
            return path, index
    return None


def cjk_font() -> str:
    """Register the Chinese TrueType font with ReportLab once and return its name."""
    global _registered
    if _registered:
        return _registered
    found = font_path()
    if found is None:
        raise FontMissing(_("未找到中文字体，无法生成 PDF。请安装文泉驿正黑字体（Debian：apt-get install "
                            "fonts-wqy-zenhei），或在环境变量 PDF_FONT_PATH 中指定一个 TrueType 字体文件。"))
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path, index = found
    pdfmetrics.registerFont(TTFont(FONT_NAME, path, subfontIndex=index))
    _registered = FONT_NAME
    return FONT_NAME
