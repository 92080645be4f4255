"""URLs of the projects part (included by service/urls.py under the "service" namespace): projects, their
milestones, indicators and indicator values."""

from django.urls import path

from dangjian.service import views_projects as v

urlpatterns = [
    path("projects/", v.project_list, name="project_list"),
    path("projects/values.xlsx", v.project_values_export, name="project_values_export"),
    path("projects/new/", v.project_create, name="project_create"),
    path("projects/<int:pk>/", v.project_detail, name="project_detail"),
    path("projects/<int:pk>/edit/", v.project_edit, name="project_edit"),
    path("projects/<int:pk>/milestones/", v.project_milestone_add, name="project_milestone_add"),
    path("projects/milestones/<int:pk>/done/", v.project_milestone_done, name="project_milestone_done"),
    path("projects/milestones/<int:pk>/delete/", v.project_milestone_delete, name="project_milestone_delete"),
    path("projects/<int:pk>/indicators/", v.project_indicator_add, name="project_indicator_add"),
    path("projects/indicators/<int:pk>/values/", v.project_value_add, name="project_value_add"),
    path("projects/values/<int:pk>/delete/", v.project_value_delete, name="project_value_delete"),
]
