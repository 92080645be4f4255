"""The wall as a printable poster: portrait A3, the Chinese font embedded (core.pdf.cjk_font).

A title band (branch, month), a grid of members — photo (or initials), name, post, score, rank only where the
month's standard set shows ranks, and the pledge wrapped and cut to the space left — and a footer with the QR code
of the public feedback form and the sentence inviting public supervision. Up to 30 members fit one page (5 × 6);
a larger branch continues on further pages with the same title and footer. Like the public pages, the poster shows
nothing but what a wall shows (it hangs in public): no qualification badge, no figures of individual items.
"""

import io
import math
from xml.sax.saxutils import escape

import qrcode
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _
from reportlab.lib.colors import HexColor, white
from reportlab.lib.pagesizes import A3
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph

from dangjian.appraisal.wall import Card, Wall
from dangjian.core.pdf import cjk_font

RED = HexColor("#b3131b")
RED_DARK = HexColor("#8c0f15")
GOLD = HexColor("#ffd54f")
INK = HexColor("#222222")
GREY = HexColor("#666666")
LINE = HexColor("#e2c9a0")
PAPER = HexColor("#fffaf0")
PLACEHOLDER = HexColor("#f1dede")

MARGIN = 12 * mm
HEADER_H = 34 * mm
FOOTER_H = 44 * mm
GAP = 3 * mm
MAX_ROWS = 6
MAX_CELL_H = 95 * mm


def _columns(n: int) -> int:
    if n <= 6:
        return 3
    if n <= 16:
        return 4
    return 5


def render_poster(wall: Wall, feedback_url: str | None) -> bytes:
    """The poster's PDF bytes. ``feedback_url`` is the public feedback form (None when the public link is closed:
    the footer then invites supervision without a QR code)."""
    font = cjk_font()
    buf = io.BytesIO()
    width, height = A3
    c = canvas.Canvas(buf, pagesize=A3, pageCompression=1, initialFontName=font)
    c.setTitle(_("{org} {month} 党员上墙公示").format(org=wall.org.name, month=wall.label))
    c.setAuthor(wall.org.name)
    c.setCreator(_("党建量化考评与对标管理平台"))
    cards = wall.cards
    cols = _columns(len(cards))
    per_page = cols * MAX_ROWS
    pages = max(1, math.ceil(len(cards) / per_page))
    for page in range(pages):
        chunk = cards[page * per_page:(page + 1) * per_page]
        _header(c, wall, font, width, height, page, pages)
        _grid(c, wall, chunk, cols, font, width, height)
        _footer(c, font, width, feedback_url)
        c.showPage()
    c.save()
    return buf.getvalue()


def _header(c, wall: Wall, font: str, width: float, height: float, page: int, pages: int) -> None:
    top = height - MARGIN
    c.setFillColor(RED)
    c.rect(MARGIN, top - HEADER_H, width - 2 * MARGIN, HEADER_H, stroke=0, fill=1)
    c.setFillColor(GOLD)
    c.rect(MARGIN, top - HEADER_H, width - 2 * MARGIN, 1.6 * mm, stroke=0, fill=1)
    c.setFillColor(white)
    title = _("{org}党员上墙公示").format(org=wall.org.name)
    size = _fit_size(title, font, 30, width - 2 * MARGIN - 20 * mm, 18)
    c.setFont(font, size)
    c.drawCentredString(width / 2, top - 15 * mm, title)
    sub = _("做新时代答卷人 · {month}月度评价结果").format(month=wall.label)
    if pages > 1:
        sub += _("（第{page}/{pages}页）").format(page=page + 1, pages=pages)
    c.setFont(font, 15)
    c.drawCentredString(width / 2, top - 26 * mm, sub)


def _fit_size(text: str, font: str, size: float, max_width: float, min_size: float) -> float:
    while size > min_size and stringWidth(text, font, size) > max_width:
        size -= 0.5
    return size


def _grid(c, wall: Wall, cards: list[Card], cols: int, font: str, width: float, height: float) -> None:
    top = height - MARGIN - HEADER_H - GAP
    bottom = MARGIN + FOOTER_H + GAP
    rows = max(1, math.ceil(len(cards) / cols))
    cell_w = (width - 2 * MARGIN - (cols - 1) * GAP) / cols
    cell_h = min((top - bottom - (rows - 1) * GAP) / rows, MAX_CELL_H)
    for i, card in enumerate(cards):
        row, col = divmod(i, cols)
        x = MARGIN + col * (cell_w + GAP)
        y = top - (row + 1) * cell_h - row * GAP
        _cell(c, wall, card, font, x, y, cell_w, cell_h)


def _photo(c, card: Card, font: str, x: float, y: float, w: float, h: float) -> None:
    if card.photo:
        try:
            with default_storage.open(card.photo, "rb") as fh:
                image = ImageReader(io.BytesIO(fh.read()))
            c.drawImage(image, x, y, w, h, preserveAspectRatio=True, anchor="c", mask=None)
            return
        except (OSError, ValueError):
            pass  # a missing or unreadable file: the initials instead
    c.setFillColor(PLACEHOLDER)
    c.rect(x, y, w, h, stroke=0, fill=1)
    c.setFillColor(RED_DARK)
    size = _fit_size(card.initials, font, w * 0.42, w * 0.85, 8)
    c.setFont(font, size)
    c.drawCentredString(x + w / 2, y + h / 2 - size * 0.35, card.initials)


def _paragraph(text: str, style: ParagraphStyle, width: float, height: float) -> Paragraph | None:
    """``text`` wrapped to ``width``; cut with "…" where it would be taller than ``height``."""
    text = " ".join((text or "").split())
    if not text or height < style.leading:
        return None
    p = Paragraph(escape(text), style)
    if p.wrap(width, height)[1] <= height:
        return p
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix that fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if Paragraph(escape(text[:mid]) + "…", style).wrap(width, height)[1] <= height:
            lo = mid
        else:
            hi = mid - 1
    p = Paragraph(escape(text[:lo]) + "…", style)
    p.wrap(width, height)
    return p


def _cell(c, wall: Wall, card: Card, font: str, x: float, y: float, w: float, h: float) -> None:
    scale = max(1.0, min(1.5, w / (55 * mm)))
    pad = 2.5 * mm
    c.setFillColor(PAPER)
    c.setStrokeColor(LINE)
    c.setLineWidth(0.8)
    c.roundRect(x, y, w, h, 2 * mm, stroke=1, fill=1)
    photo_h = min(h * 0.52, (w * 0.42) * 4 / 3)
    photo_w = photo_h * 0.75
    px, py = x + pad, y + h - pad - photo_h
    _photo(c, card, font, px, py, photo_w, photo_h)
    # Beside the photo: name, post, score (and rank).
    tx = px + photo_w + 2.2 * mm
    tw = x + w - pad - tx
    name_size = _fit_size(card.name, font, 14 * scale, tw, 8)
    c.setFillColor(INK)
    c.setFont(font, name_size)
    c.drawString(tx, y + h - pad - name_size, card.name)
    post_style = ParagraphStyle("post", fontName=font, fontSize=8 * scale, leading=10 * scale, textColor=GREY,
                                wordWrap="CJK")
    score_size = 20 * scale
    score_top = py + score_size * 0.2 + (9 * scale if card.rank else 0)
    post_top = y + h - pad - name_size - 1.5 * mm
    post = _paragraph(card.post, post_style, tw, max(0, post_top - score_top - score_size - 1 * mm))
    if post is not None:
        post.drawOn(c, tx, post_top - post.height)
    c.setFillColor(RED)
    score = f"{card.total:.1f}"
    c.setFont(font, score_size)
    c.drawString(tx, score_top, score)
    c.setFont(font, 9 * scale)
    c.drawString(tx + stringWidth(score, font, score_size) + 1 * mm, score_top, _("分"))
    if card.rank:
        c.setFillColor(GREY)
        c.setFont(font, 8 * scale)
        c.drawString(tx, py, _("支部第{rank}名").format(rank=card.rank))
    # Below the photo: the pledge, wrapped and cut to what is left of the cell.
    pledge_style = ParagraphStyle("pledge", fontName=font, fontSize=8.5 * scale, leading=11 * scale,
                                  textColor=INK, wordWrap="CJK")
    label = _("承诺：")
    avail_h = py - y - pad - 1.5 * mm
    text = label + card.pledge if card.pledge else label + _("（本年度承诺未填写）")
    p = _paragraph(text, pledge_style, w - 2 * pad, avail_h)
    if p is not None:
        p.drawOn(c, x + pad, py - 1.5 * mm - p.height)


def _footer(c, font: str, width: float, feedback_url: str | None) -> None:
    y = MARGIN
    c.setStrokeColor(RED)
    c.setLineWidth(1.2)
    c.line(MARGIN, y + FOOTER_H, width - MARGIN, y + FOOTER_H)
    qr_size = FOOTER_H - 6 * mm
    text_w = width - 2 * MARGIN - (qr_size + 8 * mm if feedback_url else 0)
    style = ParagraphStyle("footer", fontName=font, fontSize=15, leading=22, textColor=INK, wordWrap="CJK")
    if feedback_url:
        sentence = _("欢迎广大群众监督党员履职践诺情况。扫描右侧二维码，即可对党员提出表扬、建议或投诉，"
                     "留言直接送达党支部书记，我们将认真核实处理。")
    else:
        sentence = _("欢迎广大群众监督党员履职践诺情况，意见和建议请向本党支部反映，我们将认真核实处理。")
    p = _paragraph(sentence, style, text_w, FOOTER_H - 8 * mm)
    if p is not None:
        p.drawOn(c, MARGIN, y + FOOTER_H - 5 * mm - p.height)
    if feedback_url:
        qx = width - MARGIN - qr_size
        _qr(c, feedback_url, qx, y + 1 * mm, qr_size)
        c.setFillColor(GREY)
        c.setFont(font, 9)
        c.drawRightString(qx - 2 * mm, y + 2 * mm, _("群众监督 · 扫码留言"))


def _qr(c, text: str, x: float, y: float, size: float) -> None:
    """The QR code drawn as filled runs of modules (vector, sharp at any print size), with a white quiet zone."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(text)
    code.make(fit=True)
    matrix = code.get_matrix()
    n = len(matrix)
    quiet = 2
    module = size / (n + 2 * quiet)
    c.setFillColor(white)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColor(HexColor("#000000"))
    for r, row in enumerate(matrix):
        top = y + size - (quiet + r + 1) * module
        col = 0
        while col < n:
            if not row[col]:
                col += 1
                continue
            start = col
            while col < n and row[col]:
                col += 1
            c.rect(x + (quiet + start) * module, top, (col - start) * module, module, stroke=0, fill=1)
