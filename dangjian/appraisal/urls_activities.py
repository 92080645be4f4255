"""URLs of the activities pages (included by appraisal/urls.py under the "appraisal" namespace), all under
/appraisal/activities/."""

from django.urls import path

from dangjian.appraisal import views_activities as v

urlpatterns = [
    path("activities/", v.activity_home, name="activity_home"),
    path("activities/meetings/", v.meeting_list, name="meeting_list"),
    path("activities/meetings/new/", v.meeting_create, name="meeting_create"),
    path("activities/meetings/<int:pk>/", v.meeting_detail, name="meeting_detail"),
    path("activities/meetings/<int:pk>/edit/", v.meeting_edit, name="meeting_edit"),
    path("activities/meetings/<int:pk>/delete/", v.meeting_delete, name="meeting_delete"),
    path("activities/study/", v.study_list, name="study_list"),
    path("activities/study/new/", v.study_create, name="study_create"),
    path("activities/study/mine/", v.study_mine, name="study_mine"),
    path("activities/study/<int:pk>/edit/", v.study_edit, name="study_edit"),
    path("activities/study/<int:pk>/delete/", v.study_delete, name="study_delete"),
    path("activities/dues/", v.dues_list, name="dues_list"),
    path("activities/dues/branch/", v.dues_branch, name="dues_branch"),
    path("activities/dues/<int:pk>/edit/", v.dues_edit, name="dues_edit"),
    path("activities/dues/<int:pk>/delete/", v.dues_delete, name="dues_delete"),
    path("activities/service/", v.service_list, name="service_list"),
    path("activities/service/new/", v.service_create, name="service_create"),
    path("activities/service/<int:pk>/edit/", v.service_edit, name="service_edit"),
    path("activities/service/<int:pk>/delete/", v.service_delete, name="service_delete"),
    path("activities/import/", v.activity_import, name="activity_import"),
    path("activities/import/<str:kind>/template/", v.activity_import_template, name="activity_import_template"),
    path("activities/import/<str:kind>/", v.activity_import_upload, name="activity_import_upload"),
]
