"""Pages of the organization evaluation: results (included by assessments/urls.py under the "assessments" namespace)."""

from django.urls import path

from dangjian.assessments import views_results

urlpatterns = [
    path("<int:pk>/results/", views_results.period_results, name="period_results"),
    path("<int:pk>/adjustments/", views_results.period_adjustments, name="period_adjustments"),
    path("results/<int:pk>/adjust/", views_results.result_adjust, name="result_adjust"),
]
