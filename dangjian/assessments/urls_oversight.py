"""Pages of the organization evaluation: oversight (included by assessments/urls.py under the "assessments" namespace)."""

from django.urls import path

from dangjian.assessments import views_oversight

urlpatterns = [
    path("oversight/", views_oversight.oversight, name="oversight"),
    path("oversight/data/", views_oversight.oversight_data, name="oversight_data"),
]
