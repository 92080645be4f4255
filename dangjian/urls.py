from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from dangjian.api import api
from dangjian.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", core_views.password_change, name="password_change"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("audit/", core_views.audit_list, name="audit_list"),
    path("orgs/", include("dangjian.orgs.urls")),
    path("api/v1/", api.urls),
    path("django-admin/", admin.site.urls),
]
