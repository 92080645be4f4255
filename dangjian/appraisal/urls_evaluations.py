"""URLs of the monthly member evaluation pages (included by appraisal/urls.py under the "appraisal" namespace)."""

from django.urls import path

from dangjian.appraisal import views_evaluations as views

urlpatterns: list = [
    path("", views.period_list, name="period_list"),
    path("periods/new/", views.period_create, name="period_create"),
    path("periods/<int:pk>/", views.period_detail, name="period_detail"),
    path("periods/<int:pk>/publish-ready/", views.period_publish_ready, name="period_publish_ready"),
    path("periods/<int:pk>/close/", views.period_close, name="period_close"),
    path("periods/<int:pk>/branches/<int:org_pk>/", views.branch_month, name="branch_month"),
    path("periods/<int:pk>/branches/<int:org_pk>/publish/", views.branch_publish, name="branch_publish"),
    path("me/", views.my_month, name="my_month"),
    path("me/history/", views.my_history, name="my_history"),
    path("evaluations/<int:pk>/", views.evaluation_detail, name="evaluation_detail"),
    path("evaluations/<int:pk>/save/", views.evaluation_save, name="evaluation_save"),
    path("evaluations/<int:pk>/move/", views.evaluation_move, name="evaluation_move"),
    path("evaluations/<int:pk>/exempt/", views.evaluation_exempt, name="evaluation_exempt"),
    path("evaluations/<int:pk>/evidence/", views.evidence_upload, name="evidence_upload"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence_download"),
    path("evidence/<int:pk>/withdraw/", views.evidence_withdraw, name="evidence_withdraw"),
]
