from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.report_page, name="page"),
    path("conversations.csv", views.conversations_export, name="conversations_csv"),
    path("agents.csv", views.agents_export, name="agents_csv"),
]
