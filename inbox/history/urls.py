"""The history sync's URLs, under an account of the accounts page:
/accounts/<pk>/history/ (the panel) and /accounts/<pk>/history/sync/ (the button)."""

from django.urls import path

from . import views

app_name = "history"

urlpatterns = [
    path("", views.history_status, name="status"),
    path("sync/", views.history_start, name="start"),
]
