"""The JSON API at /api/v1/: each app's Ninja router mounted here; docs served from local files."""

from django.db import DataError
from django.utils.translation import gettext as _
from ninja import NinjaAPI

from dangjian.core.api import TokenAuth, docs
from dangjian.core.api import router as auth_router
from dangjian.orgs.api import router as orgs_router
from dangjian.standards.api import router as standards_router

api = NinjaAPI(
    title="党建量化考评与对标管理平台 API",
    version="1",
    description="所有接口与页面使用同一套组织范围权限；令牌通过 POST /api/v1/auth/token 获取。",
    auth=TokenAuth(),
    docs=docs,
    urls_namespace="api",
)
api.add_router("/auth/", auth_router)
api.add_router("/", orgs_router)
api.add_router("/", standards_router)
api.add_router("/", "dangjian.assessments.api.router")
api.add_router("/", "dangjian.assessments.api_results.router")
api.add_router("/", "dangjian.assessments.api_oversight.router")
api.add_router("/", "dangjian.assessments.api_benchmark.router")
api.add_router("/", "dangjian.core.api_notifications.router")
api.add_router("/", "dangjian.appraisal.api.router")
api.add_router("/", "dangjian.service.api.router")


@api.exception_handler(OverflowError)
def _number_out_of_range(request, exc):
    # An identifier or filter beyond the database's integer range (found by the schemathesis fuzz test): the
    # same answer as any other bad parameter, instead of a server error. (PostgreSQL's "out of range" is a
    # DataError, below.)
    return api.create_response(request, {"detail": _("参数数值超出允许范围。")}, status=400)


@api.exception_handler(DataError)
def _data_out_of_range(request, exc):
    return api.create_response(request, {"detail": _("参数数值超出允许范围。")}, status=400)
