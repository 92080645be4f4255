from django.urls import path

from dangjian.orgs import imports, views, views_types

app_name = "orgs"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("<int:pk>/children/", views.tree_children, name="tree_children"),
    path("list/", views.org_list, name="org_list"),
    path("new/", views.org_create, name="org_create"),
    path("<int:pk>/", views.org_detail, name="org_detail"),
    path("<int:pk>/edit/", views.org_edit, name="org_edit"),
    path("<int:pk>/move/", views.org_move, name="org_move"),
    path("<int:pk>/merge/", views.org_merge, name="org_merge"),
    path("<int:pk>/archive/", views.org_archive, name="org_archive"),
    path("<int:pk>/restore/", views.org_restore, name="org_restore"),
    path("<int:pk>/seats/new/", views.seat_add, name="seat_add"),
    path("seats/<int:pk>/end/", views.seat_end, name="seat_end"),
    path("members/", views.member_list, name="member_list"),
    path("members/search/", views.member_search, name="member_search"),
    path("members/new/", views.member_create, name="member_create"),
    path("members/<int:pk>/", views.member_detail, name="member_detail"),
    path("members/<int:pk>/edit/", views.member_edit, name="member_edit"),
    path("members/<int:pk>/transfer/", views.member_transfer, name="member_transfer"),
    path("members/<int:pk>/pledge/", views.member_pledge, name="member_pledge"),
    path("members/<int:pk>/photo/", views.member_photo, name="member_photo"),
    path("accounts/", views.account_list, name="account_list"),
    path("accounts/new/", views.account_create, name="account_create"),
    path("accounts/<int:pk>/", views.account_detail, name="account_detail"),
    path("accounts/<int:pk>/status/", views.account_status, name="account_status"),
    path("accounts/<int:pk>/password/", views.account_password, name="account_password"),
    path("grants/<int:pk>/revoke/", views.grant_revoke, name="grant_revoke"),
    path("types/", views_types.type_list, name="type_list"),
    path("types/new/", views_types.type_edit, name="type_create"),
    path("types/<int:pk>/edit/", views_types.type_edit, name="type_edit"),
    path("import/", imports.import_home, name="import_home"),
    path("import/<str:kind>/template/", imports.import_template, name="import_template"),
    path("import/<str:kind>/", imports.import_upload, name="import_upload"),
]
