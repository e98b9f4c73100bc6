from django.urls import path

from . import graph_views, views

app_name = "sandbox"

urlpatterns = [
    path("", views.simulator, name="simulator"),
    path("customers/new/", views.customer_new, name="customer_new"),
    path("customers/<int:customer_id>/", views.simulator, name="customer"),
    path("customers/<int:customer_id>/thread/", views.thread, name="thread"),
    path("customers/<int:customer_id>/<slug:action>/", views.customer_action, name="action"),
    path("faults/", views.faults, name="faults"),
    path("account/restore/", views.account_restore, name="account_restore"),
    # The fake Graph API, laid out like graph.instagram.com.
    path("graph/access_token", graph_views.token, name="graph_access_token"),
    path("graph/refresh_access_token", graph_views.token, name="graph_refresh_token"),
    path(
        "graph/<str:version>/me/subscribed_apps",
        graph_views.subscribed_apps,
        name="graph_subscribed_apps",
    ),
    path("graph/<str:version>/<str:node>/messages", graph_views.messages, name="graph_messages"),
    path(
        "graph/<str:version>/<str:node>/conversations",
        graph_views.conversations,
        name="graph_conversations",
    ),
    path("graph/<str:version>/<str:node>", graph_views.node, name="graph_node"),
]
