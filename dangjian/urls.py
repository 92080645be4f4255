from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from dangjian.api import api
from dangjian.core import health, views_security
from dangjian.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz/", health.healthz, name="healthz"),
    path("login/", views_security.LoginView.as_view(), name="login"),
    path("login/verify/", views_security.login_verify, name="login_verify"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", core_views.password_change, name="password_change"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("audit/", core_views.audit_list, name="audit_list"),
    path("account/2fa/", views_security.totp_setup, name="totp_setup"),
    path("security/", views_security.security_home, name="security_home"),
    path("security/lockouts/<int:pk>/unlock/", views_security.security_unlock, name="security_unlock"),
    path("security/2fa/<int:pk>/reset/", views_security.security_totp_reset, name="security_totp_reset"),
    path("security/personal-export/grant/", views_security.security_personal_grant,
         name="security_personal_grant"),
    path("security/personal-export/<int:pk>/revoke/", views_security.security_personal_revoke,
         name="security_personal_revoke"),
    path("notifications/", include("dangjian.core.urls_notifications")),
    path("orgs/", include("dangjian.orgs.urls")),
    path("standards/", include("dangjian.standards.urls")),
    path("assessments/", include("dangjian.assessments.urls")),
    path("appraisal/", include("dangjian.appraisal.urls")),
    path("service/", include("dangjian.service.urls")),
    path("api/v1/", api.urls),
    # Django's admin signs in through our login page (lockout, second factor), never its own form.
    path("django-admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("django-admin/", admin.site.urls),
]
