from django.urls import include, path

from dangjian.standards import views
from dangjian.standards.member_views import urlpatterns as member_urlpatterns

app_name = "standards"
urlpatterns = [
    path("", views.set_list, name="set_list"),
    path("new/", views.set_create, name="set_create"),
    path("default/", views.load_default, name="load_default"),
    path("import/", views.import_new, name="import_new"),
    path("import/template/", views.import_template, name="import_template"),
    path("<int:pk>/", views.set_detail, name="set_detail"),
    path("<int:pk>/edit/", views.set_edit, name="set_edit"),
    path("<int:pk>/publish/", views.set_publish, name="set_publish"),
    path("<int:pk>/archive/", views.set_archive, name="set_archive"),
    path("<int:pk>/copy/", views.set_copy, name="set_copy"),
    path("<int:pk>/export/", views.set_export, name="set_export"),
    path("<int:pk>/import/", views.import_into, name="import_into"),
    path("<int:pk>/preview/", views.preview, name="preview"),
    path("<int:pk>/categories/new/", views.category_create, name="category_create"),
    path("categories/<int:pk>/edit/", views.category_edit, name="category_edit"),
    path("categories/<int:pk>/delete/", views.category_delete, name="category_delete"),
    path("<int:pk>/items/new/", views.item_create, name="item_create"),
    path("items/<int:pk>/edit/", views.item_edit, name="item_edit"),
    path("items/<int:pk>/delete/", views.item_delete, name="item_delete"),
    path("items/<int:pk>/move/", views.item_move, name="item_move"),
    path("member/", include(member_urlpatterns)),  # member standard sets (党员评价标准)
]
