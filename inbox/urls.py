from django.urls import path

from . import views, webhooks

app_name = "inbox"

urlpatterns = [
    path("", views.conversation_list, name="conversation_list"),
    path("webhooks/instagram/", webhooks.instagram_webhook, name="instagram_webhook"),
]
