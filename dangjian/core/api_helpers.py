"""Shared pieces for the Ninja routers: pagination, the error shapes and the mapping of domain errors.

Handlers stay thin: they parse, fetch through ``core.access``, call a service and return. ``api_errors`` turns
what services raise into responses: ``DomainError`` -> 400 ``{"detail", "field"}``, ``AccessDenied`` and
``Http404`` -> 404 (an object outside the user's scope looks like one that does not exist).
"""

import functools
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from ninja import Field, Schema

from dangjian.core.access import AccessDenied
from dangjian.core.api import ErrorOut
from dangjian.core.errors import DomainError

NOT_FOUND = gettext_noop("未找到该对象，或您无权访问。")
MAX_LIMIT = 200


class DomainErrorOut(Schema):
    detail: str = Field(..., title="错误说明", description="说明哪里不对、如何改正的中文句子")
    field: str | None = Field(None, title="字段", description="出错的请求字段；与具体字段无关时为 null")


class PageIn(Schema):
    limit: int = Field(20, ge=1, le=MAX_LIMIT, title="每页条数", description=f"每页返回的条数，1–{MAX_LIMIT}")
    offset: int = Field(0, ge=0, title="偏移量", description="跳过前面多少条")


# Response entries every authenticated operation may return, for the OpenAPI document.
READ_ERRORS = {401: ErrorOut, 404: ErrorOut}
WRITE_ERRORS = {400: DomainErrorOut, 401: ErrorOut, 404: ErrorOut}


def reads(schema, status: int = 200) -> dict:
    return {status: schema, **READ_ERRORS}


def writes(schema, status: int = 200) -> dict:
    return {status: schema, **WRITE_ERRORS}


def paginate(qs: QuerySet, page: PageIn, count_qs: QuerySet | None = None) -> dict:
    """One COUNT and one slice. ``count_qs`` lets a list count without its (costly) annotations."""
    total = (qs if count_qs is None else count_qs).count()
    return {"count": total, "items": list(qs[page.offset : page.offset + page.limit])}


def api_errors(func: Callable | None = None, *, fields: dict[str, str] | None = None):
    """Decorator mapping domain exceptions to responses.

    ``fields`` renames a service's field name to the request's (e.g. ``{"parent": "new_parent_id"}``), so a
    client can put the message next to the input it sent. The wrapped handler's signature is kept (Ninja reads
    it through ``__wrapped__``); the operation must declare 400 and 404 in its ``response``.
    """

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except DomainError as exc:
                field = (fields or {}).get(exc.field, exc.field) if exc.field else None
                return 400, {"detail": str(exc.message), "field": field}
            except ValidationError as exc:
                return 400, {"detail": "；".join(exc.messages), "field": None}
            except (AccessDenied, Http404):
                return 404, {"detail": _(NOT_FOUND)}

        return wrapper

    return decorate(func) if func is not None else decorate


def check_field(value, validator, field: str):
    """Run a Django validator; its Chinese message becomes a DomainError on ``field``."""
    try:
        validator(value)
    except ValidationError as exc:
        raise DomainError("；".join(exc.messages), field) from exc
    return value
