"""The site's URLs: the health check, the inbox (webhook included), login, Django admin, the
accounts pages, files Meta fetches for replies, and the sandbox."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from inbox.media_views import outbound_media

from . import views

admin.site.site_header = "Instagram inbox administration"
admin.site.site_title = "Instagram inbox"

urlpatterns = [
    path("healthz/", views.healthz, name="healthz"),
    # The webhook and the agents' pages and polls: the busiest paths, matched first. Nothing
    # in it matches a path the patterns below serve.
    path("", include("inbox.urls")),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # An account's history sync: its panel on the accounts page and the button (inbox/history).
    path("accounts/<int:pk>/history/", include("inbox.history.urls")),
    path("accounts/", include("accounts.urls")),
    path("mentions/", include("team.urls")),
    path("reports/", include("reports.urls")),
    # Public, no login: files agents attach to replies, fetched by Meta (outbound/ only).
    path(f"{settings.MEDIA_URL.strip('/')}/outbound/<path:path>", outbound_media),
    path("sandbox/", include("sandbox.urls")),  # 404 unless the sandbox is on
]
