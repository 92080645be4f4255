"""URLs of the yearend pages (included by appraisal/urls.py under the "appraisal" namespace)."""

from django.urls import path

from dangjian.appraisal import views_yearend as v

urlpatterns: list = [
    path("yearend/", v.yearend_list, name="yearend_list"),
    path("yearend/branch/<int:org_id>/<int:year>/", v.yearend_branch, name="yearend_branch"),
    path("yearend/branch/<int:org_id>/<int:year>/compute/", v.yearend_compute, name="yearend_compute"),
    path("yearend/review/<int:pk>/rule/", v.yearend_rule, name="yearend_rule"),
    path("yearend/review/<int:pk>/lock/", v.yearend_lock, name="yearend_lock"),
]
