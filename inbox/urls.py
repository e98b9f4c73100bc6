from django.urls import path

from . import views, views_team, webhooks

app_name = "inbox"

urlpatterns = [
    # Meta's webhooks: the busiest path, matched first.
    path("webhooks/instagram/", webhooks.instagram_webhook, name="instagram_webhook"),
    path("", views.conversation_list, name="conversation_list"),
    path("c/<int:pk>/", views_team.conversation_page, name="conversation_detail"),
    path("c/<int:pk>/updates/", views.conversation_updates, name="conversation_updates"),
    path("c/<int:pk>/assign/", views.conversation_assign, name="conversation_assign"),
    path("c/<int:pk>/status/", views.conversation_status, name="conversation_status"),
    path("c/<int:pk>/unread/", views.conversation_unread, name="conversation_unread"),
    path("c/<int:pk>/labels/", views_team.conversation_labels, name="conversation_labels"),
    path("c/<int:pk>/snooze/", views_team.conversation_snooze, name="conversation_snooze"),
    path("m/<int:pk>/react/", views.message_react, name="message_react"),
    path("m/<int:pk>/retry/", views.message_retry, name="message_retry"),
    path("m/<int:pk>/refresh/", views.message_refresh, name="message_refresh"),
]
