from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.static import serve

from . import views

admin.site.site_header = "Instagram inbox administration"
admin.site.site_title = "Instagram inbox"

urlpatterns = [
    path("healthz/", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    # Public, no login: files agents attach to replies, fetched by Meta (see
    # inbox/services/attachments.py). Only outbound/ is served; `..` cannot leave it.
    path(
        f"{settings.MEDIA_URL.strip('/')}/outbound/<path:path>",
        login_not_required(serve),
        {"document_root": settings.MEDIA_ROOT / "outbound"},
    ),
    path("", include("inbox.urls")),
]
