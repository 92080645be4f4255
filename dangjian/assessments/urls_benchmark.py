"""Pages of the organization evaluation: benchmark (included by assessments/urls.py under the "assessments" namespace)."""

from django.urls import path

from dangjian.assessments import views_benchmark

urlpatterns = [
    path("orgs/<int:org_pk>/benchmark/", views_benchmark.org_benchmark, name="org_benchmark"),
    path("orgs/<int:org_pk>/benchmark/data/", views_benchmark.org_benchmark_data, name="org_benchmark_data"),
    path("annual/", views_benchmark.annual, name="annual"),
]
