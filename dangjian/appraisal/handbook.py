"""《党员量化评价手册》: the printable handbook of a member's year (PDF, A4 portrait, ReportLab platypus).

Per member: a cover (year, name, branch, post, join date — never the ID or phone number), 入党誓词, the member's
pledge of the year (党员承诺), the twelve monthly tables (each item's part and content, the member's reported
count and points, the branch's determined count and points with the reason; the month's parts, total, qualified
and rank in the branch; "未评价" for a month without a published result), the year's study records and signature
lines under every month. One member, or a whole branch in one file: each member starts on a new page, pages are
numbered "第 x 页" within each member's handbook, and the PDF's outline has one entry per member.

Reading is set-based: the members, their pledges, the year's results, the published months' lines and the study
records are five queries whatever the number of members (``collect``). The results are read with every result of
their branch months and checked against the digests the close stored (QUALITY.md S6, ``appraisal.close``): a
month whose results were changed afterwards refuses the PDF with a Chinese message. The font is embedded (core.pdf), so every
viewer shows the same Chinese text.
"""

import datetime
import io
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from xml.sax.saxutils import escape

from django.db import connection
from django.db.models import Q
from django.http import Http404
from django.utils import dateformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from dangjian.appraisal.close import raise_refused, read_checked, refused_in, refused_months
from dangjian.appraisal.models import (
    OWN_ACTIONS,
    AState,
    MemberLine,
    MemberResult,
    StudyForm,
    StudyRecord,
)
from dangjian.core.access import get_scoped_or_404, require, scope
from dangjian.core.audit import log_action
from dangjian.core.errors import DomainError
from dangjian.core.pdf import FontMissing, cjk_font
from dangjian.orgs.models import Level, Member, MemberStatus, Organization, Pledge
from dangjian.standards.models import MemberPart

# 入党誓词 (中国共产党章程 第六条), reproduced exactly.
OATH = ("我志愿加入中国共产党，拥护党的纲领，遵守党的章程，履行党员义务，执行党的决定，严守党的纪律，"
        "保守党的秘密，对党忠诚，积极工作，为共产主义奋斗终身，随时准备为党和人民牺牲一切，永不叛党。")

TITLE = gettext_noop("党员量化评价手册")
MIN_YEAR, MAX_YEAR = 2000, 2100


# ---- who may print what ---------------------------------------------------------------------------------------


def printable_members(user):
    """Members whose handbook the user may print: those in the user's ``appraisal.view`` scope (the branch's
    secretary, the committee's staff, admins) and the user's own member record (``appraisal.view`` is one of a
    member's own actions, appraisal.models.OWN_ACTIONS). ``Member.own_q`` answers only for ``member.view``, so
    the member's own row is added here, as the appraisal models' ``own_q`` add it."""
    qs = Member.objects.all()
    cond = Q(pk__in=scope(user, "appraisal.view", qs).values("pk"))
    if user.is_authenticated and "appraisal.view" in OWN_ACTIONS:
        cond |= Q(user_id=user.pk)
    return qs.filter(cond)


def get_member(user, member_id) -> Member:
    try:
        return printable_members(user).select_related("org").get(pk=member_id)
    except (Member.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(_("未找到该对象，或您无权访问。")) from exc


def get_branch(user, org_id) -> Organization:
    """A branch whose handbooks the user may print together (secretary, staff, admin)."""
    return get_scoped_or_404(user, "appraisal.view", Organization.objects.filter(level=Level.BRANCH), pk=org_id)


def parse_year(value, default: int | None = None) -> int:
    """The handbook's year from a query string: four digits within 2000–2100; empty means this year."""
    if value in (None, ""):
        return default or datetime.date.today().year
    try:
        year = int(str(value).strip())
    except ValueError:
        year = 0
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise DomainError(_("年度应为 {low}–{high} 之间的四位数字，例如 2025。").format(low=MIN_YEAR, high=MAX_YEAR),
                          "year")
    return year


# ---- the data of a year, in a fixed number of queries -----------------------------------------------------------


@dataclass
class Month:
    month: datetime.date
    result: MemberResult | None = None
    lines: list = field(default_factory=list)


@dataclass
class Book:
    member: Member
    pledge: str = ""
    months: list[Month] = field(default_factory=list)
    study: list = field(default_factory=list)


def collect(members_qs, year: int) -> list[Book]:
    """The handbooks of ``members_qs`` for ``year``: five queries whatever the number of members. DomainError
    when a published month read no longer matches its digest."""
    members = list(members_qs.select_related("org").only(
        "id", "name", "post", "title", "joined_on", "confirmed_on", "status", "org__id", "org__name"))
    ids = members_qs.values("pk")
    start, end = datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)
    pledges = dict(Pledge.objects.filter(member__in=ids, year=year).values_list("member_id", "text"))
    results = checked_results([m.pk for m in members], start, end)
    lines = defaultdict(list)
    for row in (MemberLine.objects.filter(
            evaluation__member__in=ids, evaluation__state=AState.PUBLISHED,
            evaluation__period__month__gte=start, evaluation__period__month__lt=end)
            .order_by("evaluation__member_id", "evaluation__period__month", "item__order", "item_id")
            .values_list("evaluation_id", "part", "item__text", "self_count", "self_points", "count", "points",
                         "reason")):
        lines[row[0]].append(row[1:])
    study = defaultdict(list)
    for row in (StudyRecord.objects.filter(member__in=ids, date__gte=start, date__lt=end)
                .order_by("member_id", "date", "id").values_list("member_id", "date", "title", "form", "hours")):
        study[row[0]].append(row[1:])
    books = []
    for m in members:
        book = Book(member=m, pledge=pledges.get(m.pk, ""), study=study.get(m.pk, []))
        for k in range(1, 13):
            month = datetime.date(year, k, 1)
            r = results.get((m.pk, month))
            book.months.append(Month(month=month, result=r, lines=lines.get(r.evaluation_id, []) if r else []))
        books.append(book)
    return books


def _tenths(n: int) -> Decimal:
    return Decimal(n).scaleb(-1)


def checked_results(member_ids: list[int], start: datetime.date, end: datetime.date) -> dict:
    """(member, month) → the member's published result of a month in [start, end), read with every result of the
    same branch months and checked against the digest stored when each was published (QUALITY.md S6): one query.
    DomainError when a branch month no longer matches its digest or figures, or has no aggregate."""
    if not member_ids:
        return {}
    r = MemberResult._meta.db_table
    ops = connection.ops
    rows = read_checked(
        f"(r.period_id, r.org_id) IN (SELECT period_id, org_id FROM {r} WHERE member_id IN "
        f"({', '.join(['%s'] * len(member_ids))}) AND month >= %s AND month < %s)",
        [*member_ids, ops.adapt_datefield_value(start), ops.adapt_datefield_value(end)])
    raise_refused(refused_in(rows, {(row[0], row[1]): row[4] for row in rows}))
    wanted, results = set(member_ids), {}
    for row in rows:
        if row[2] not in wanted:
            continue
        month = row[4] if isinstance(row[4], datetime.date) else datetime.date.fromisoformat(str(row[4])[:10])
        results[(row[2], month)] = MemberResult(
            id=row[22], period_id=row[0], org_id=row[1], member_id=row[2], evaluation_id=row[3], month=month,
            member_name=row[5], base=_tenths(row[6]), bonus=_tenths(row[7]), deduction=_tenths(row[8]),
            self_total=_tenths(row[9]), branch_total=_tenths(row[10]), total=_tenths(row[11]),
            vetoed=bool(row[12]), qualified=bool(row[13]), rank=row[14], branch_size=row[15])
    return results


def check_results(results) -> None:
    """Refuse (DomainError) when a branch month of ``results`` (MemberResult rows) no longer matches the digest
    stored when it was published, or has no published aggregate at all: one query."""
    raise_refused(refused_months({(r.period_id, r.org_id): r.month for r in results}))


# ---- the services: check, build, audit as an export -------------------------------------------------------------


def member_handbook(user, member: Member, year: int) -> bytes:
    """One member's handbook. The member themself, or ``appraisal.view`` on the member's branch."""
    if member.user_id != getattr(user, "pk", None):
        require(user, "appraisal.view", member.org.path)
    pdf = render_pdf(collect(Member.objects.filter(pk=member.pk), year), year)
    log_action(user, "export", member, org_path=member.org.path, what=TITLE, year=year, members=1,
               filename=filename_for(member.name, year))
    return pdf


def branch_handbooks(user, org: Organization, year: int) -> bytes:
    """Every member on the rolls of a branch, in one file (ordered by name as in the member list)."""
    require(user, "appraisal.view", org.path)
    members = Member.objects.filter(org=org, active=True).order_by("name_pinyin", "id")
    books = collect(members, year)
    if not books:
        raise DomainError(_("{org}没有在册党员，无法生成手册。").format(org=org.name))
    pdf = render_pdf(books, year)
    log_action(user, "export", org, what=TITLE, year=year, members=len(books), filename=filename_for(org.name, year))
    return pdf


def filename_for(name: str, year: int) -> str:
    return _("{name}-{year}年度党员量化评价手册.pdf").format(name=name, year=year)


# ---- the PDF ----------------------------------------------------------------------------------------------------

RED = "#b3131b"


def _num(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value.quantize(Decimal('0.1'))}"
    return str(value)


class _Styles:
    def __init__(self, font: str):

        red = colors.HexColor(RED)
        self.font = font
        self.title = ParagraphStyle("title", fontName=font, fontSize=30, leading=40, alignment=TA_CENTER,
                                    textColor=red, spaceAfter=6 * 2.835)
        self.year = ParagraphStyle("year", fontName=font, fontSize=18, leading=26, alignment=TA_CENTER)
        self.h1 = ParagraphStyle("h1", fontName=font, fontSize=18, leading=26, alignment=TA_CENTER,
                                 textColor=red, spaceBefore=4, spaceAfter=10)
        self.h2 = ParagraphStyle("h2", fontName=font, fontSize=12.5, leading=18, textColor=red, spaceBefore=8,
                                 spaceAfter=4)
        self.body = ParagraphStyle("body", fontName=font, fontSize=11, leading=19, wordWrap="CJK")
        self.oath = ParagraphStyle("oath", fontName=font, fontSize=14, leading=28, wordWrap="CJK",
                                   alignment=TA_JUSTIFY, firstLineIndent=28)
        self.pledge = ParagraphStyle("pledge", fontName=font, fontSize=12, leading=22, wordWrap="CJK",
                                     firstLineIndent=24)
        self.cell = ParagraphStyle("cell", fontName=font, fontSize=8, leading=10, wordWrap="CJK")
        self.small = ParagraphStyle("small", fontName=font, fontSize=8.5, leading=12, textColor=colors.grey)
        self.cover = ParagraphStyle("cover", fontName=font, fontSize=14, leading=20)


class MemberStart(Flowable):
    """Marks the first page of a member's handbook: page numbers restart there, and the PDF's outline gets an
    entry with the member's name."""

    def __init__(self, key: str, name: str):
        super().__init__()
        self.key, self.name = key, name

    def wrap(self, aw, ah):
        return 0, 0

    def draw(self):
        doc = self.canv._doctemplate
        doc.member_page0 = self.canv.getPageNumber()
        doc.member_name = self.name
        self.canv.bookmarkPage(self.key)
        self.canv.addOutlineEntry(self.name, self.key, level=0, closed=True)


class HandbookDoc(BaseDocTemplate):
    """A4 portrait, one frame; the footer (name, year, "第 x 页") is drawn when a page ends, after the page's
    MemberStart (if any) has set where the member's pages begin."""

    def __init__(self, buf, font, year, **kw):
        super().__init__(buf, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                         bottomMargin=18 * mm, **kw)
        self.font, self.year = font, year
        self.member_page0, self.member_name = 1, ""
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body",
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        self.addPageTemplates([PageTemplate(id="page", frames=[frame], onPageEnd=self._footer)])

    def _footer(self, canv, doc):
        canv.saveState()
        canv.setFont(self.font, 8.5)
        canv.setFillGray(0.45)
        number = canv.getPageNumber() - self.member_page0 + 1
        text = _("{name} · {year}年度党员量化评价手册 · 第 {page} 页").format(
            name=self.member_name, year=self.year, page=number)
        canv.drawCentredString(A4[0] / 2, 9 * mm, text)
        canv.restoreState()


def render_pdf(books: list[Book], year: int) -> bytes:
    """The handbooks of ``books`` in one PDF."""
    try:
        font = cjk_font()
    except FontMissing as exc:
        raise DomainError(str(exc)) from exc

    st = _Styles(font)
    buf = io.BytesIO()
    doc = HandbookDoc(buf, font, year, title=_(TITLE), author=_("党建量化考评与对标管理平台"),
                      subject=_("{year}年度").format(year=year), creator="dangjian")
    story = []
    for i, book in enumerate(books):
        if i:
            story.append(PageBreak())
        story.append(MemberStart(f"m{book.member.pk}", book.member.name))
        story += _cover(st, book, year)
        story.append(PageBreak())
        story += _oath_and_pledge(st, book, year)
        story.append(PageBreak())
        story += _months(st, book, year)
        story += _study(st, book, year)
    doc.build(story)
    return buf.getvalue()


def _cover(st: _Styles, book: Book, year: int) -> list:

    m = book.member
    status = MemberStatus(m.status).label if m.status in MemberStatus.values else ""
    rows = [
        [_("姓　　名"), m.name],
        [_("所在支部"), m.org.name],
        [_("岗　　位"), m.post or "—"],
        [_("入党时间"), dateformat.format(m.joined_on, _("Y年m月d日")) if m.joined_on else "—"],
        [_("党员类别"), str(status) or "—"],
    ]
    table = Table([[Paragraph(escape(str(k)), st.cover), Paragraph(escape(str(v)), st.cover)] for k, v in rows],
                  colWidths=[32 * mm, 92 * mm], hAlign="CENTER")
    table.setStyle(TableStyle([
        ("LINEBELOW", (1, 0), (1, -1), 0.6, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
        ("TOPPADDING", (0, 0), (-1, -1), 9),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]))
    return [
        Spacer(1, 45 * mm),
        Paragraph(escape(_(TITLE)), st.title),
        Paragraph(escape(_("{year}年度").format(year=year)), st.year),
        Spacer(1, 50 * mm),
        table,
        Spacer(1, 40 * mm),
        Paragraph(escape(_("印制日期：{date}").format(date=f"{datetime.date.today():%Y-%m-%d}")), st.small),
    ]


def _sign_line(st: _Styles, *labels: str) -> Table:
    """Signature lines: each label followed by a line to sign on, then the date."""
    cells, widths = [], []
    line_w = (100 if len(labels) == 1 else 44) * mm
    for label in labels:
        cells += [label, ""]
        widths += [stringWidth(label, st.font, 10.5) + 2 * mm, line_w]
    cells += [_("日期："), ""]
    widths += [stringWidth(_("日期："), st.font, 10.5) + 2 * mm, 26 * mm]
    t = Table([cells], colWidths=widths, hAlign="RIGHT")
    style = [("FONTNAME", (0, 0), (-1, -1), st.font), ("FONTSIZE", (0, 0), (-1, -1), 10.5),
             ("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("TOPPADDING", (0, 0), (-1, -1), 10),
             ("LEFTPADDING", (0, 0), (-1, -1), 1), ("RIGHTPADDING", (0, 0), (-1, -1), 1)]
    style += [("LINEBELOW", (i, 0), (i, 0), 0.6, colors.black) for i in range(1, len(cells), 2)]
    t.setStyle(TableStyle(style))
    return t


def _oath_and_pledge(st: _Styles, book: Book, year: int) -> list:

    pledge = book.pledge.strip()
    out = [
        Spacer(1, 8 * mm),
        Paragraph(escape(_("入党誓词")), st.h1),
        Spacer(1, 4 * mm),
        Paragraph(escape(OATH), st.oath),
        Spacer(1, 18 * mm),
        Paragraph(escape(_("党员承诺（{year}年度）").format(year=year)), st.h1),
        Spacer(1, 4 * mm),
    ]
    if pledge:
        out += [Paragraph(escape(p).replace("\n", "<br/>"), st.pledge) for p in pledge.split("\n\n")]
    else:
        out.append(Paragraph(escape(_("（本年度尚未填写承诺。）")), st.body))
    out += [Spacer(1, 14 * mm), _sign_line(st, _("承诺人签字："))]
    return out


def _fits(text: str, font: str, size: float, width: float) -> bool:

    return "\n" not in text and stringWidth(text, font, size) <= width


def _month_table(st: _Styles, month: Month) -> object:
    """The month's items: part, content, reported count and points, determined count and points, reason."""

    widths = [15 * mm, 63 * mm, 13 * mm, 13 * mm, 13 * mm, 13 * mm, 50 * mm]
    head = [_("部分"), _("评价内容"), _("自报次数"), _("自评分"), _("评定次数"), _("评定分"), _("评定理由")]
    pad = 4

    def cell(text, width):
        text = text or ""
        return text if _fits(text, st.font, 8, width - pad) else Paragraph(escape(text), st.cell)

    data = [head]
    style = [
        ("FONTNAME", (0, 0), (-1, -1), st.font), ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("LEADING", (0, 0), (-1, -1), 10),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9a9a9a")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3e3e4")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("ALIGN", (2, 0), (5, -1), "CENTER"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    r = month.result
    if r is None:
        data.append([_("未评价"), "", "", "", "", "", ""])
        style += [("SPAN", (0, 1), (-1, 1)), ("ALIGN", (0, 1), (-1, 1), "CENTER"),
                  ("TEXTCOLOR", (0, 1), (-1, 1), colors.grey), ("TOPPADDING", (0, 1), (-1, 1), 8),
                  ("BOTTOMPADDING", (0, 1), (-1, 1), 8)]
    else:
        parts = dict(MemberPart.choices)
        for part, text, self_count, self_points, count, points, reason in month.lines:
            data.append([str(parts.get(part, part)), cell(text, widths[1]), _num(self_count), _num(self_points),
                         _num(count), _num(points), cell(reason, widths[6])])
    return Table(data, colWidths=widths, repeatRows=1, style=TableStyle(style))


def _summary(st: _Styles, month: Month) -> object:

    r = month.result
    if r is None:
        values = ["—"] * 6
    else:
        if r.vetoed:
            verdict = _("不合格（一票否决）")
        else:
            verdict = _("合格") if r.qualified else _("不合格")
        values = [_num(r.base), _num(r.bonus), _num(r.deduction), _num(r.total), verdict,
                  _("{rank} / {size}").format(rank=r.rank, size=r.branch_size)]
    head = [_("基础分"), _("奖励分"), _("减项分"), _("月度得分"), _("是否合格"), _("支部内排名")]
    t = Table([head, values], colWidths=[25 * mm, 25 * mm, 25 * mm, 27 * mm, 44 * mm, 34 * mm])
    t.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), st.font), ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9a9a9a")), ("ALIGN", (0, 0), (-1, -1), "CENTER"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f7f7f7")),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return t


def _months(st: _Styles, book: Book, year: int) -> list:

    out = [Paragraph(escape(_("月度量化评价（{year}年）").format(year=year)), st.h1)]
    for month in book.months:
        # A month stays on one page where it fits; a longer one splits with its header row repeated.
        out += [
            CondPageBreak(45 * mm),
            KeepTogether([
                Paragraph(escape(_("{year}年{month}月").format(year=year, month=month.month.month)), st.h2),
                _summary(st, month), Spacer(1, 2 * mm), _month_table(st, month),
                _sign_line(st, _("党员签字："), _("支部书记签字：")),
            ]),
            Spacer(1, 5 * mm),
        ]
    return out


def _study(st: _Styles, book: Book, year: int) -> list:

    out = [PageBreak(), Paragraph(escape(_("学习记录（{year}年）").format(year=year)), st.h1)]
    if not book.study:
        out.append(Paragraph(escape(_("本年度没有学习记录。")), st.body))
        return out
    forms = dict(StudyForm.choices)
    widths = [24 * mm, 118 * mm, 22 * mm, 16 * mm]
    data = [[_("日期"), _("学习内容"), _("形式"), _("学时")]]
    total = Decimal("0")
    for date, title, form, hours in book.study:
        content = title if _fits(title, st.font, 9, widths[1] - 4) else Paragraph(escape(title), st.cell)
        data.append([f"{date:%Y-%m-%d}", content, str(forms.get(form, form)), _num(hours)])
        total += hours or 0
    data.append([_("合计"), _("{n} 次").format(n=len(book.study)), "", _num(total)])
    t = Table(data, colWidths=widths, repeatRows=1)
    t.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), st.font), ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9a9a9a")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3e3e4")),
        ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f7f7f7")),
        ("ALIGN", (2, 0), (-1, -1), "CENTER"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    out.append(t)
    return out
