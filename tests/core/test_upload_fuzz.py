"""Hostile uploads (QUALITY.md S5, issue 6 point 7): zip bombs, polyglots, oversize, truncated, empty and random
files against the Excel reader (core/excel.py ``read_rows``, used by every import) and the evidence check
(assessments/evidence.py ``check_upload``). Each is refused with a Chinese DomainError and nothing is written: the
member import and the evidence upload are run end to end and the rows (and stored files) counted before/after.
Random bytes come from hypothesis, derandomized so CI sees the same files every run."""

import io
import re
import struct
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dangjian.assessments import evidence, services
from dangjian.assessments.models import Evidence
from dangjian.core.errors import DomainError
from dangjian.core.excel import read_rows, workbook_bytes
from dangjian.core.models import AuditEvent
from dangjian.orgs.models import Member, Organization, Pledge

CHINESE = re.compile(r"[\u4e00-\u9fff]")
FUZZ = settings(max_examples=40, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

PDF_HEAD = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"
PNG_HEAD = b"\x89PNG\r\n\x1a\n"


def xlsx_bytes():
    return workbook_bytes([("党员", ["姓名", "性别"], [["张三", "男"]])])


def zip_bomb(uncompressed: int, name="xl/worksheets/sheet1.xml") -> bytes:
    """A real .xlsx layout whose one sheet is ``uncompressed`` bytes of zeros, deflated to a few kB."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types xmlns='http://schemas.openxmlformats.org/package/2006/"
                    "content-types'><Override ContentType='application/vnd.openxmlformats-officedocument."
                    "spreadsheetml.sheet.main+xml' PartName='/xl/workbook.xml'/></Types>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open(name, "w") as fh:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(uncompressed // len(chunk)):
                fh.write(chunk)
    return buf.getvalue()


def polyglot_pdf_zip() -> bytes:
    """A PDF header in front of a complete .xlsx: zip readers find the archive from its end."""
    return PDF_HEAD + xlsx_bytes()


def refused(call, *args, **kwargs) -> str:
    with pytest.raises(DomainError) as info:
        call(*args, **kwargs)
    message = str(info.value.message)
    assert CHINESE.search(message), message
    return message


def upload(name, data):
    return SimpleUploadedFile(name, data)


@pytest.fixture
def small_caps(settings):
    """Caps of 1 MB (zip bombs: 10 MB unpacked) so the crafted files stay small and quick."""
    settings.EXCEL_MAX_UPLOAD_BYTES = 1024 * 1024
    settings.EVIDENCE_MAX_BYTES = 1024 * 1024


# ---- the Excel reader -------------------------------------------------------------------------------------


def test_a_good_xlsx_is_read():
    assert read_rows(upload("名单.xlsx", xlsx_bytes()))[:2] == [["姓名", "性别"], ["张三", "男"]]


@pytest.mark.parametrize("name,data,expected", [
    ("名单.xlsx", b"", "文件不是有效的 Excel"),
    ("名单.xlsx", HTML, "文件不是有效的 Excel"),
    ("名单.xlsx", polyglot_pdf_zip(), "文件不是有效的 Excel"),
    ("名单.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "文件不是有效的 Excel"),
    ("名单.xlsx", xlsx_bytes()[: len(xlsx_bytes()) // 2], "文件已损坏或不是 .xlsx 格式"),
    ("名单.xlsx", b"PK\x03\x04" + b"\xff" * 300, "文件已损坏或不是 .xlsx 格式"),
])
def test_excel_reader_refuses_hostile_files(name, data, expected):
    assert expected in refused(read_rows, upload(name, data))


def test_excel_reader_refuses_a_zip_bomb(small_caps):
    bomb = zip_bomb(12 * 1024 * 1024)
    assert len(bomb) < 100 * 1024  # 12 MB of zeros in a few kB
    assert "解压后过大" in refused(read_rows, upload("名单.xlsx", bomb))


def lying_zip_bomb(rows: int) -> bytes:
    """A workbook whose sheet holds ``rows`` rows (several MB of XML) while its zip headers say it unpacks to 1 kB:
    the declared sizes pass the unpack limit, so the reader must not trust them."""
    good = workbook_bytes([("党员", ["姓名"], [["张三"]])])
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                extra = b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>x</t></is></c></row>' % (i, i)
                                 for i in range(3, rows))
                data = data.replace(b"</sheetData>", extra + b"</sheetData>")
            zout.writestr(info.filename, data)
    raw = bytearray(buf.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as zf:
        sheet = zf.getinfo("xl/worksheets/sheet1.xml")
        assert sheet.file_size > 5 * 1024 * 1024
        struct.pack_into("<I", raw, sheet.header_offset + 22, 1000)  # local header: uncompressed size
    at = raw.find(b"PK\x01\x02")
    while at >= 0:  # central directory entries
        length = struct.unpack_from("<H", raw, at + 28)[0]
        if raw[at + 46:at + 46 + length] == b"xl/worksheets/sheet1.xml":
            struct.pack_into("<I", raw, at + 24, 1000)
        at = raw.find(b"PK\x01\x02", at + 4)
    return bytes(raw)


def test_excel_reader_refuses_a_zip_bomb_with_lying_headers(small_caps):
    bomb = lying_zip_bomb(100_000)
    assert len(bomb) < 1024 * 1024
    assert "无法读取该 Excel 文件" in refused(read_rows, upload("名单.xlsx", bomb))


def test_excel_reader_refuses_an_oversize_file(small_caps):
    big = xlsx_bytes() + b"\0" * (1024 * 1024)
    assert "文件过大" in refused(read_rows, upload("名单.xlsx", big))


def test_excel_reader_refuses_too_many_rows(settings):
    settings.EXCEL_MAX_ROWS = 5
    data = workbook_bytes([("党员", ["姓名"], [[f"党员{i}"] for i in range(10)])])
    assert "行数超过上限" in refused(read_rows, upload("名单.xlsx", data))


@FUZZ
@given(st.binary(max_size=4096))
def test_excel_reader_refuses_random_bytes(data):
    refused(read_rows, upload("名单.xlsx", data))


@FUZZ
@given(st.binary(max_size=4096))
def test_excel_reader_refuses_random_bytes_behind_a_zip_header(data):
    refused(read_rows, upload("名单.xlsx", b"PK\x03\x04" + data))


# ---- the evidence check -----------------------------------------------------------------------------------


def png_bytes():
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buf, "PNG")
    return buf.getvalue()


def test_good_evidence_is_accepted():
    assert evidence.check_upload(upload("照片.png", png_bytes())) == ("image/png", "照片.png")
    assert evidence.check_upload(upload("表.xlsx", xlsx_bytes()))[0] == evidence.OOXML_MAIN[".xlsx"][1]


@pytest.mark.parametrize("name,data,expected", [
    ("空.pdf", b"", "文件是空的"),
    ("表格.pdf", xlsx_bytes(), "不符"),  # an .xlsx named .pdf
    ("图.png", HTML, "不符"),  # an HTML page named .png
    ("页面.html", HTML, "不支持的文件类型"),
    ("脚本.svg", b"<svg onload='alert(1)'/>", "不支持的文件类型"),
    ("资料.pdf.exe", b"MZ" + b"\0" * 100, "不支持的文件类型"),
    ("图.png", PNG_HEAD + xlsx_bytes(), "图片文件已损坏"),  # a PNG header in front of a zip
    ("图.png", png_bytes()[:30], "图片文件已损坏"),  # truncated
    ("图.jpg", b"\xff\xd8\xff\xe0" + HTML, "图片文件已损坏"),
    ("表.xlsx", polyglot_pdf_zip(), "不符"),
    ("表.xlsx", xlsx_bytes()[:200], "文件已损坏"),
    ("文档.docx", xlsx_bytes(), "不符"),  # an Excel file named .docx
    ("表.doc", HTML, "不符"),
])
def test_evidence_check_refuses_hostile_files(name, data, expected):
    assert expected in refused(evidence.check_upload, upload(name, data))


def test_photo_must_be_an_image():
    assert "现场照片须为" in refused(evidence.check_upload, upload("照片.pdf", PDF_HEAD + b"1"), photo=True)


def test_a_pdf_header_in_front_of_html_stays_a_pdf():
    """A PDF/HTML polyglot is a PDF as far as the check goes; it is stored and served only as application/pdf
    (downloads are attachments with nosniff), never as a page."""
    assert evidence.check_upload(upload("资料.pdf", PDF_HEAD + HTML)) == ("application/pdf", "资料.pdf")


def test_evidence_check_refuses_a_zip_bomb(small_caps):
    assert "解压后过大" in refused(evidence.check_upload, upload("表.xlsx", zip_bomb(12 * 1024 * 1024)))


def test_evidence_check_refuses_an_oversize_file(small_caps):
    assert "文件过大" in refused(evidence.check_upload, upload("资料.pdf", PDF_HEAD + b"\0" * (1024 * 1024)))


def test_evidence_check_refuses_macros():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", evidence.OOXML_MAIN[".docx"][0])
        zf.writestr("word/vbaProject.bin", b"\0" * 10)
    assert "含宏" in refused(evidence.check_upload, upload("文档.docx", buf.getvalue()))


MAGIC = {".pdf": b"%PDF-", ".png": PNG_HEAD, ".jpg": b"\xff\xd8\xff", ".xlsx": b"PK\x03\x04",
         ".docx": b"PK\x03\x04", ".doc": evidence.OLE2, ".txt": b""}


@FUZZ
@given(ext=st.sampled_from(sorted(MAGIC)), data=st.binary(min_size=1, max_size=4096))
def test_evidence_check_answers_random_bytes_with_a_clear_error(ext, data):
    """Random content behind each type's magic bytes: refused with a Chinese message, except where the magic bytes
    are the whole check by design (PDF, OLE2), and then the type is pinned to that format."""
    f = upload("资料" + ext, MAGIC[ext] + data)
    try:
        content_type, _name = evidence.check_upload(f)
    except DomainError as exc:
        assert CHINESE.search(str(exc.message))
    else:
        assert ext in (".pdf", ".doc") and content_type in ("application/pdf", "application/msword")


# ---- end to end: nothing is written -----------------------------------------------------------------------


def counts():
    return (Organization.objects.count(), Member.objects.count(), Pledge.objects.count(),
            AuditEvent.objects.count())


HOSTILE_IMPORTS = [
    ("zip bomb", lambda: zip_bomb(12 * 1024 * 1024), "文件解压后过大"),
    ("pdf+zip polyglot", polyglot_pdf_zip, "文件不是有效的 Excel"),
    ("html", lambda: HTML, "文件不是有效的 Excel"),
    ("truncated", lambda: xlsx_bytes()[:300], "文件已损坏或不是 .xlsx 格式"),
    ("oversize", lambda: xlsx_bytes() + b"\0" * (1024 * 1024), "文件过大"),
]


@pytest.mark.parametrize("label,make,expected", HOSTILE_IMPORTS, ids=[h[0] for h in HOSTILE_IMPORTS])
def test_member_import_writes_nothing_for_a_hostile_file(company, login, small_caps, label, make, expected):
    client = login(company.staff)
    before = counts()
    resp = client.post(reverse("orgs:import_upload", args=["members"]), {"file": upload("名单.xlsx", make())})
    html = resp.content.decode()
    assert resp.status_code == 200
    assert 'data-testid="import-file-error"' in html and expected in html
    assert counts() == before


@pytest.fixture
def evaluation(company, settings, tmp_path):
    import datetime

    from dangjian.standards.services import load_default_set

    settings.MEDIA_ROOT = tmp_path / "media"
    load_default_set(company.staff, company.committee, 2026, publish=True)
    period = services.open_period(company.staff, company.committee, "2026-10",
                                  submit_due=datetime.date(2026, 10, 25), self_due=datetime.date(2026, 10, 28),
                                  assess_due=datetime.date(2026, 11, 5))
    return period.evaluations.get(org=company.branch_a)


@pytest.mark.parametrize("name,make", [
    ("表.xlsx", lambda: zip_bomb(12 * 1024 * 1024)),
    ("表格.pdf", xlsx_bytes),
    ("图.png", lambda: HTML),
    ("空.pdf", lambda: b""),
    ("资料.pdf", lambda: PDF_HEAD + b"\0" * (1024 * 1024)),
])
def test_evidence_upload_stores_nothing_for_a_hostile_file(company, evaluation, small_caps, settings, name, make):
    before = (Evidence.objects.count(), AuditEvent.objects.count())
    refused(services.upload_evidence, company.secretary_a, evaluation, upload(name, make()))
    assert (Evidence.objects.count(), AuditEvent.objects.count()) == before
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


@FUZZ
@given(data=st.binary(min_size=1, max_size=2048), ext=st.sampled_from([".png", ".jpg", ".xlsx", ".docx"]))
def test_evidence_upload_of_random_bytes_stores_nothing(company, evaluation, settings, data, ext):
    before = Evidence.objects.count()
    refused(services.upload_evidence, company.secretary_a, evaluation, upload("资料" + ext, MAGIC[ext] + data))
    assert Evidence.objects.count() == before
    assert not settings.MEDIA_ROOT.exists() or not any(p.is_file() for p in settings.MEDIA_ROOT.rglob("*"))


def test_a_good_evidence_file_is_stored(company, evaluation, settings):
    """The control for the two tests above: the same person, month and path store a real PNG."""
    stored = services.upload_evidence(company.secretary_a, evaluation, upload("照片.png", png_bytes()))
    assert stored.content_type == "image/png"
    assert [p.name for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()] == [stored.file.name.rsplit("/", 1)[1]]
