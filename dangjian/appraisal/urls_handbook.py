"""URLs of the handbook pages (included by appraisal/urls.py under the "appraisal" namespace)."""

from django.urls import path

from dangjian.appraisal import views_handbook as v

urlpatterns: list = [
    path("handbook/", v.handbook_index, name="handbook_index"),
    path("handbook/member/<int:member_id>/", v.handbook_member, name="handbook_member"),
    path("handbook/branch/<int:org_id>/", v.handbook_branch, name="handbook_branch"),
]
