from django.urls import path

from dangjian.assessments import views
from dangjian.assessments.urls_benchmark import urlpatterns as benchmark
from dangjian.assessments.urls_oversight import urlpatterns as oversight
from dangjian.assessments.urls_results import urlpatterns as results

app_name = "assessments"
urlpatterns = [
    path("", views.period_list, name="period_list"),
    path("new/", views.period_create, name="period_create"),
    path("<int:pk>/", views.period_detail, name="period_detail"),
    path("<int:pk>/publish/", views.period_publish, name="period_publish"),
    path("<int:pk>/finalize/", views.period_finalize, name="period_finalize"),
    path("<int:pk>/assessors/", views.period_assessors, name="period_assessors"),
    path("assignments/<int:pk>/remove/", views.assignment_remove, name="assignment_remove"),
    path("evaluations/<int:pk>/", views.evaluation_detail, name="evaluation_detail"),
    path("evaluations/<int:pk>/summary/", views.evaluation_summary, name="evaluation_summary"),
    path("evaluations/<int:pk>/move/", views.evaluation_move, name="evaluation_move"),
    path("evaluations/<int:pk>/evidence/", views.evidence_upload, name="evidence_upload"),
    path("items/<int:pk>/self/", views.item_self, name="item_self"),
    path("items/<int:pk>/assess/", views.item_assess, name="item_assess"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence_download"),
    path("evidence/<int:pk>/withdraw/", views.evidence_withdraw, name="evidence_withdraw"),
]
urlpatterns += results + oversight + benchmark
