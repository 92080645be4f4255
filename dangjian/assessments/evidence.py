"""Checks on uploaded evidence (信息资料报送) and assessors' photos, by content, not by name or browser claim.

Accepted: PDF (``%PDF-``), PNG and JPEG (magic bytes, then decoded by Pillow), Office Open XML documents (a zip
whose ``[Content_Types].xml`` names the main part of a Word, Excel or PowerPoint document, without macros) and
the old OLE2 compound files (``D0 CF 11 E0``) for .doc, .xls and .ppt. The file's extension must agree with its
content. The size cap is ``settings.EVIDENCE_MAX_BYTES`` (20 MB by default). Nothing here stores anything:
``services.upload_evidence`` stores a file only after ``check_upload`` accepted it.
"""

import os
import unicodedata
import zipfile

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from dangjian.core.errors import DomainError

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# An OOXML file may not unpack to more than this many times the upload cap, nor hold more entries (zip bombs).
MAX_UNPACK_RATIO = 10
MAX_ZIP_ENTRIES = 5000

PDF = b"%PDF-"
PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8\xff"
ZIP = b"PK\x03\x04"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

OOXML_MAIN = {
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ".pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
              "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
}
OLE2_TYPES = {".doc": "application/msword", ".xls": "application/vnd.ms-excel",
              ".ppt": "application/vnd.ms-powerpoint"}
IMAGE_TYPES = {".png": ("PNG", "image/png"), ".jpg": ("JPEG", "image/jpeg"), ".jpeg": ("JPEG", "image/jpeg")}
EXTENSIONS = [".pdf", ".jpg", ".jpeg", ".png", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx"]
PHOTO_EXTENSIONS = [".jpg", ".jpeg", ".png"]
# For the file input's accept attribute (a hint to the browser; the server decides).
ACCEPT = ",".join(EXTENSIONS)
PHOTO_ACCEPT = "image/jpeg,image/png"


def max_bytes() -> int:
    return int(getattr(settings, "EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES))


def clean_name(name: str) -> str:
    """The file's own name without any directory part or control characters, at most 200 characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if not name:
        return "file"
    if len(name) > 200:
        stem, ext = os.path.splitext(name)
        name = stem[: 200 - len(ext)] + ext
    return name


def _unsupported():
    return DomainError(_("不支持的文件类型：只能上传 PDF、图片（JPG、PNG）或 Office 文档（Word、Excel、PowerPoint）。"),
                       "file")


def _mismatch(ext: str):
    return DomainError(_("文件内容与扩展名“{ext}”不符，请上传真实的 PDF、图片或 Office 文档。").format(ext=ext), "file")


def _check_image(upload, ext: str) -> str:
    fmt, content_type = IMAGE_TYPES[ext]
    upload.seek(0)
    try:
        with Image.open(upload) as img:
            if img.format != fmt:
                raise _mismatch(ext)
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise DomainError(_("图片文件已损坏或无法识别，请重新拍摄或另存后上传。"), "file") from exc
    return content_type


def _check_ooxml(upload, ext: str) -> str:
    main, content_type = OOXML_MAIN[ext]
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ZIP_ENTRIES or sum(i.file_size for i in infos) > max_bytes() * MAX_UNPACK_RATIO:
                raise DomainError(_("文件解压后过大，已拒绝。"), "file")
            names = {i.filename for i in infos}
            if "[Content_Types].xml" not in names:
                raise _mismatch(ext)
            if any(n.lower().endswith("vbaproject.bin") for n in names):
                raise DomainError(_("不接受含宏的 Office 文档，请另存为不含宏的格式（.docx、.xlsx、.pptx）后上传。"),
                                  "file")
            with zf.open("[Content_Types].xml") as fh:
                types = fh.read(1024 * 1024).decode("utf-8", "replace")
    except zipfile.BadZipFile as exc:
        raise DomainError(_("文件已损坏，无法打开。"), "file") from exc
    if "macroEnabled" in types:
        raise DomainError(_("不接受含宏的 Office 文档，请另存为不含宏的格式（.docx、.xlsx、.pptx）后上传。"), "file")
    if main not in types:
        raise _mismatch(ext)
    return content_type


def check_upload(upload, *, photo: bool = False) -> tuple[str, str]:
    """Accept or refuse an uploaded file; returns (content type, clean file name).

    Raises DomainError with a sentence saying what is wrong and what to upload instead."""
    if upload is None:
        raise DomainError(_("请选择要上传的文件。"), "file")
    size = upload.size or 0
    if size > max_bytes():
        raise DomainError(_("文件过大：每个文件不能超过 {mb} MB。").format(mb=max_bytes() // (1024 * 1024)), "file")
    if size == 0:
        raise DomainError(_("文件是空的，请重新选择。"), "file")
    name = clean_name(upload.name)
    ext = os.path.splitext(name)[1].lower()
    if photo and ext not in PHOTO_EXTENSIONS:
        raise DomainError(_("现场照片须为 JPG 或 PNG 图片。"), "file")
    if ext not in EXTENSIONS:
        raise _unsupported()
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if ext == ".pdf":
        if not head.startswith(PDF):
            raise _mismatch(ext)
        content_type = "application/pdf"
    elif ext in IMAGE_TYPES:
        if not (head.startswith(PNG) if ext == ".png" else head.startswith(JPEG)):
            raise _mismatch(ext)
        content_type = _check_image(upload, ext)
    elif ext in OOXML_MAIN:
        if not head.startswith(ZIP):
            raise _mismatch(ext)
        content_type = _check_ooxml(upload, ext)
    else:
        if not head.startswith(OLE2):
            raise _mismatch(ext)
        content_type = OLE2_TYPES[ext]
    upload.seek(0)
    return content_type, name
