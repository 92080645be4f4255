"""URLs of the dashboards part (included by service/urls.py under the "service" namespace).

The decision-support dashboard of the user's subtree (``/service/``) and its Excel workbook; the 按服务数据计分
button of an organization evaluation month (assessments.auto), which the committee's staff press.
"""

from django.urls import path

from dangjian.service import views_dashboards as v

urlpatterns = [
    path("", v.dashboard, name="dashboard"),
    path("auto-score/<int:period_id>/", v.auto_score, name="dashboard_auto_score"),
]
