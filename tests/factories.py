"""Factory functions for tests: plain functions that build valid objects with little typing."""

import datetime
import itertools

from django.contrib.auth.models import User

from dangjian.core.validators import id_check_char
from dangjian.orgs.models import Level, Member, Organization, OrgType, Role, RoleGrant, path_segment

_seq = itertools.count(1)
PASSWORD = "Dangjian#2026pass"


def valid_id(birth: datetime.date = datetime.date(1985, 6, 15), serial: int | None = None) -> str:
    serial = next(_seq) % 1000 if serial is None else serial
    first17 = f"110101{birth:%Y%m%d}{serial:03d}"
    return first17 + id_check_char(first17)


def org_type(code="production"):
    return OrgType.objects.get(code=code)


def make_org(name=None, parent=None, level=Level.BRANCH, type_code="production", **kw) -> Organization:
    n = next(_seq)
    org = Organization.objects.create(
        name=name or f"测试党支部{n}", code=kw.pop("code", f"T{n:05d}"), level=level,
        type=org_type(type_code) if type_code else None, parent=parent, path=f"tmp{n}",
        depth=(parent.depth + 1) if parent else 0, **kw,
    )
    org.path = (parent.path if parent else "") + path_segment(org.pk)
    Organization.objects.filter(pk=org.pk).update(path=org.path)
    return org


def make_member(org, name="张三", **kw) -> Member:
    birth = kw.pop("birth_date", datetime.date(1985, 6, 15))
    defaults = dict(
        gender="M", birth_date=birth, id_number=valid_id(birth), phone=f"139{next(_seq):08d}",
        joined_on=datetime.date(2010, 7, 1), confirmed_on=datetime.date(2011, 7, 1), status="full",
        post="运维检修班班长",
    )
    defaults.update(kw)
    m = Member(org=org, name=name, **defaults)
    m.save()
    return m


def make_user(username, role=None, org=None, member=None, **kw) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, **kw)
    if role:
        RoleGrant.objects.create(user=user, role=role, org=org)
    if member is not None:
        Member.objects.filter(pk=member.pk).update(user=user)
    return user


__all__ = ["Role", "make_org", "make_member", "make_user", "valid_id", "PASSWORD"]
