"""Excel in and out: python-calamine reads uploads, openpyxl writes templates and exports."""

import datetime
import io
import zipfile
from urllib.parse import quote

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from dangjian.core.audit import log_action
from dangjian.core.errors import DomainError

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_HEAD_FONT = Font(bold=True, color="FFFFFF")
_HEAD_FILL = PatternFill("solid", fgColor="B3131B")


def workbook_bytes(sheets: list[tuple[str, list[str], object]], notes: list[str] | None = None) -> bytes:
    """Write sheets (title, header, rows) to .xlsx bytes; rows may be any iterable of sequences."""
    wb = Workbook(write_only=True)
    for title, header, rows in sheets:
        ws = wb.create_sheet(title[:31])
        for i, name in enumerate(header, 1):
            ws.column_dimensions[get_column_letter(i)].width = max(10, min(40, len(name) * 2 + 4))
        ws.freeze_panes = "A2"
        head = []
        for name in header:
            from openpyxl.cell import WriteOnlyCell

            c = WriteOnlyCell(ws, value=name)
            c.font, c.fill, c.alignment = _HEAD_FONT, _HEAD_FILL, Alignment(horizontal="center")
            head.append(c)
        ws.append(head)
        for row in rows:
            ws.append([_cell(ws, v) for v in row])
    if notes:
        ws = wb.create_sheet("填写说明")
        ws.column_dimensions["A"].width = 100
        for line in notes:
            ws.append([line])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cell(ws, value):
    """A value as a cell. Text is always stored as text: openpyxl would store a string starting with "=" as a
    formula, and text typed by anyone (a need from the public, a member's note) must never run in a spreadsheet."""
    if isinstance(value, datetime.datetime):
        return value.astimezone().replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, str) and value.startswith("="):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        return cell
    return value


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    resp = HttpResponse(content, content_type=XLSX_MIME)
    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return resp


def export_xlsx(request, filename: str, header: list[str], rows, *, what: str, count: int | None = None):
    """An export of a list page: the rows come from the page's own scoped queryset; the export is audited.

    ``filename`` and ``what`` are Chinese source strings (mark them with gettext_noop): the audit record keeps
    them as they are, the file's name and sheet title are translated into the user's language."""
    content = workbook_bytes([(_(what), header, rows)])
    log_action(request.user, "export", request=request, what=what, filename=filename,
               query=request.GET.urlencode()[:500], rows=count)
    stamp = datetime.date.today().strftime("%Y%m%d")
    return xlsx_response(content, f"{_(filename)}-{stamp}.xlsx")


def wants_xlsx(request) -> bool:
    return request.GET.get("format") == "xlsx"


# ---- reading ---------------------------------------------------------------------------------------------


def read_rows(upload) -> list[list]:
    """Rows of the first sheet of an uploaded .xlsx, checked against size, zip-bomb and row limits.

    Raises DomainError with a sentence in the user's language when the file cannot be accepted."""
    size = getattr(upload, "size", None)
    if size is not None and size > settings.EXCEL_MAX_UPLOAD_BYTES:
        raise DomainError(_("文件过大（上限 {mb} MB）。").format(mb=settings.EXCEL_MAX_UPLOAD_BYTES // 1024 // 1024))
    data = upload.read() if hasattr(upload, "read") else bytes(upload)
    if not data.startswith(b"PK"):
        raise DomainError(_("文件不是有效的 Excel（.xlsx）文件，请使用下载的模板填写后上传。"))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = sum(i.file_size for i in zf.infolist())
            if total > settings.EXCEL_MAX_UPLOAD_BYTES * 10:
                raise DomainError(_("文件解压后过大，已拒绝。"))
            if "xl/workbook.xml" not in zf.namelist():
                raise DomainError(_("文件不是有效的 Excel（.xlsx）文件，请使用下载的模板填写后上传。"))
    except zipfile.BadZipFile as exc:
        raise DomainError(_("文件已损坏或不是 .xlsx 格式。")) from exc
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = wb.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for every malformed file
        raise DomainError(_("无法读取该 Excel 文件，请确认文件未损坏并使用模板格式。")) from exc
    if len(rows) - 1 > settings.EXCEL_MAX_ROWS:
        raise DomainError(_("行数超过上限（{rows} 行），请分批导入。").format(rows=settings.EXCEL_MAX_ROWS))
    return rows
