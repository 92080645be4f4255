"""URLs of the teams part (included by service/urls.py under the "service" namespace): service teams, their
members, and their activities with participants' hours and photos."""

from django.urls import path

from dangjian.service import views_teams as v

urlpatterns = [
    path("teams/", v.team_list, name="team_list"),
    path("teams/new/", v.team_create, name="team_create"),
    path("teams/<int:pk>/", v.team_detail, name="team_detail"),
    path("teams/<int:pk>/edit/", v.team_edit, name="team_edit"),
    path("teams/<int:pk>/archive/", v.team_archive, name="team_archive"),
    path("teams/<int:pk>/members/add/", v.team_member_add, name="team_member_add"),
    path("teams/<int:pk>/members/<int:member_id>/remove/", v.team_member_remove, name="team_member_remove"),
    path("teams/<int:pk>/activities/new/", v.service_activity_create, name="service_activity_create"),
    path("teams/activities/", v.service_activity_list, name="service_activity_list"),
    path("teams/activities/<int:pk>/", v.service_activity_detail, name="service_activity_detail"),
    path("teams/activities/<int:pk>/edit/", v.service_activity_edit, name="service_activity_edit"),
    path("teams/activities/<int:pk>/delete/", v.service_activity_delete, name="service_activity_delete"),
    path("teams/activities/<int:pk>/photos/", v.service_activity_photo_add, name="service_activity_photo_add"),
    path("teams/photos/<int:pk>/", v.service_activity_photo, name="service_activity_photo"),
    path("teams/photos/<int:pk>/delete/", v.service_activity_photo_delete, name="service_activity_photo_delete"),
]
