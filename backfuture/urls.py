from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from backfuture import health, views
from backfuture.users import views as user_views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("language/", user_views.set_language, name="set_language"),
    path("account/", user_views.account, name="account"),
    path("connections/", include("connections.urls")),
    path("strategies/", include("strategies.urls")),
    path("accounts/", include("allauth.urls")),
    # Before the admin's own URLs: its password-only login is replaced by allauth's.
    path("admin/login/", user_views.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
]
