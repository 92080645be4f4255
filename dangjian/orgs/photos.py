"""Member photos: checked by content (Pillow decodes them), re-encoded, size-capped, stored outside the web
root and served only through the access check."""

import io
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from dangjian.core.access import require
from dangjian.core.audit import log_action


class PhotoError(Exception):
    pass


Image.MAX_IMAGE_PIXELS = 40_000_000


def store_photo(user, member, upload) -> None:
    own = member.user_id is not None and member.user_id == getattr(user, "pk", None)
    if not own:
        require(user, "member.manage", member.org.path)
    if upload.size > settings.PHOTO_MAX_BYTES:
        raise PhotoError(_("照片不能超过2MB。"))
    try:
        img = Image.open(upload)
        if img.format not in ("JPEG", "PNG"):
            raise PhotoError(_("照片须为 JPG 或 PNG 格式。"))
        img.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise PhotoError(_("无法识别的图片文件，请上传 JPG 或 PNG 照片。")) from exc
    img = img.convert("RGB")
    img.thumbnail((600, 800))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)  # re-encoding drops anything hidden in the original file
    with transaction.atomic():
        old = member.photo.name if member.photo else ""
        member.photo.save(f"{uuid.uuid4().hex}.jpg", ContentFile(out.getvalue()), save=False)
        type(member).objects.filter(pk=member.pk).update(photo=member.photo.name)
        log_action(user, "member.photo_changed", member, before={"photo": old}, after={"photo": member.photo.name})
