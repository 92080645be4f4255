"""Builders shared by the ticket tests: tickets of branch A from staff or from a need, moved to a given step
through the services (so their history is real), and small valid evidence files."""

import datetime
import io
import itertools

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from dangjian.service import tickets as services
from dangjian.service.common import open_ticket
from dangjian.service.models import Need, NeedCategory, Origin, Satisfaction, TState

_SEQ = itertools.count(1)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf(name="整改记录.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def png(name="现场照片.png"):
    buf = io.BytesIO()
    Image.new("RGB", (20, 20), "blue").save(buf, "PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


def make_need(org, *, category=NeedCategory.NEED, title="小区路灯不亮", contact="13912345678"):
    return Need.objects.create(org=org, number=f"XQT-{next(_SEQ):05d}", category=category, title=title,
                               text="城关镇幸福小区3号楼前路灯已不亮半个月，夜间出行不便。", requester="王大妈",
                               contact=contact, received_on=datetime.date.today())


def staff_ticket(c, org=None, title="台区低电压治理"):
    return services.open_staff_ticket(c.staff, org or c.branch_a, title=title,
                                      description="3号台区晚高峰电压偏低，居民反映空调无法启动。")


def need_ticket(c, org=None, category=NeedCategory.NEED):
    org = org or c.branch_a
    need = make_need(org, category=category)
    return open_ticket(c.staff, org, origin=Origin.NEED, title=need.title, description=need.text, need=need)


def plan(user, t, due=None):
    return services.save_fields(user, t, {
        "analysis": "线路老化，负荷增长超出变压器容量。", "measures": "更换 400 kVA 变压器，调整三相负荷。",
        "due_date": due or datetime.date.today() + datetime.timedelta(days=10)}, version=t.version)


def to_state(user, t, state, *, due=None):
    """Fill each step and move the ticket on until it is in ``state`` (plan, do, check, act, closed)."""
    order = [TState.PLAN, TState.DO, TState.CHECK, TState.ACT, TState.CLOSED]
    while order.index(t.state) < order.index(state):
        if t.state == TState.PLAN:
            t = plan(user, t, due)
            t = services.move(user, t, TState.DO, version=t.version)
        elif t.state == TState.DO:
            services.add_action(user, t, date=datetime.date.today(), text="已更换变压器并调整负荷。")
            t = services.move(user, t, TState.CHECK, version=t.version)
        elif t.state == TState.CHECK:
            t = services.save_fields(user, t, {"verification": "复测电压 220V，合格。",
                                               "satisfaction": Satisfaction.SATISFIED,
                                               "callback_on": datetime.date.today()}, version=t.version)
            t = services.move(user, t, TState.ACT, version=t.version)
        elif t.state == TState.ACT:
            t = services.save_fields(user, t, {"standardization": "纳入台区负荷季度监测。",
                                               "similar_cases": "排查同类台区 12 个。"}, version=t.version)
            t = services.move(user, t, TState.CLOSED, version=t.version)
    return t
