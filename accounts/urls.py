"""The accounts pages, under /accounts/ (admins only)."""

from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.account_list, name="list"),
    path("alerts/", views.alerts, name="alerts"),
    path("instagram/connect/", views.connect, name="connect"),
    path("instagram/callback/", views.callback, name="callback"),
    path("<int:pk>/disconnect/", views.disconnect, name="disconnect"),
    path("<int:pk>/human-agent/", views.human_agent, name="human_agent"),
    path("<int:pk>/members/", views.members, name="members"),
]
