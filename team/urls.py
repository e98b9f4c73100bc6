from django.urls import path

from . import views

app_name = "team"

urlpatterns = [
    path("", views.mention_list, name="mention_list"),
    path("read/", views.mention_read_all, name="mention_read_all"),
]
