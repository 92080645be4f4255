"""JSON API of the in-app messages (站内消息): a user's own messages only. Another user's message id is 404."""

import datetime
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema

from dangjian.core import notifications
from dangjian.core.api import ErrorOut
from dangjian.core.api_helpers import NOT_FOUND, PageIn, paginate, reads
from dangjian.core.models import Notification

router = Router(tags=["站内消息"])

NotificationId = Annotated[int, Path(title="消息编号")]


class NotificationOut(Schema):
    id: int = Field(..., title="消息编号")
    kind: str = Field(..., title="类别编码", description="例如 eval.submit_due（报送提醒）、ticket.due（工单到期）")
    kind_label: str = Field(..., title="类别名称")
    title: str = Field(..., title="标题")
    body: str = Field(..., title="内容", description="纯文本")
    url: str = Field(..., title="链接", description="平台内的相对地址（以 / 开头），没有时为空")
    created_at: datetime.datetime = Field(..., title="时间")
    read_at: datetime.datetime | None = Field(None, title="已读时间", description="未读时为 null")

    @staticmethod
    def resolve_kind_label(obj):
        return notifications.kind_label(obj.kind)


class NotificationPage(Schema):
    count: int = Field(..., title="总数")
    unread: int = Field(..., title="未读总数")
    items: list[NotificationOut] = Field(..., title="本页消息", description="按时间倒序")


class NotificationFilter(Schema):
    unread: bool | None = Field(None, title="只看未读", description="true 只列未读；false 只列已读；不填列出全部")
    kind: str | None = Field(None, title="类别编码", max_length=40)


class ReadOut(Schema):
    marked: int = Field(..., title="本次标为已读的条数")
    unread: int = Field(..., title="剩余未读条数")


def _own(request):
    return Notification.objects.filter(user_id=request.user.pk)


@router.get("/notifications", response=reads(NotificationPage), summary="我的站内消息（分页，可只看未读）")
def list_notifications(request, page: Query[PageIn], f: Query[NotificationFilter]):
    qs = _own(request)
    if f.unread is True:
        qs = qs.filter(read_at__isnull=True)
    elif f.unread is False:
        qs = qs.filter(read_at__isnull=False)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    out = paginate(qs, page)
    out["unread"] = notifications.unread_count(request.user)
    return out


@router.post("/notifications/{notification_id}/read", response={200: ReadOut, 401: ErrorOut, 404: ErrorOut},
             summary="将一条消息标为已读")
def read_notification(request, notification_id: NotificationId):
    if not _own(request).filter(pk=notification_id).exists():
        return 404, {"detail": _(NOT_FOUND)}
    marked = notifications.mark_read(request.user, [notification_id])
    return {"marked": marked, "unread": notifications.unread_count(request.user)}


@router.post("/notifications/read-all", response={200: ReadOut, 401: ErrorOut}, summary="将我的全部消息标为已读")
def read_all_notifications(request):
    marked = notifications.mark_read(request.user, "all")
    return {"marked": marked, "unread": 0}
