"""Meta's webhook, answered ahead of the middleware that serves the agents' browsers.

Meta's servers call the webhook many times a second, and it uses none of what the browser
pages need: no session, user, CSRF token, flash messages, htmx headers, static files or
frame policy. Each of those middleware costs a little on every request: together 0.1-0.2 ms
of CPU in process, 0.2-0.3 ms under gunicorn, a fifth of what a webhook costs there. Placed
right after Django's SecurityMiddleware (whose HTTPS redirect and headers still apply), this
hands the webhook's path straight to its view and every other request on down the stack.
What CommonMiddleware would do for the webhook it does itself: refuse a host outside
ALLOWED_HOSTS (400) and send the response's length (without it gunicorn sends the body in
chunks, and closes the connection of an HTTP/1.0 client).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import get_script_prefix, reverse

from .webhooks import instagram_webhook


class WebhookFirstMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # As `path_info` has it: without the prefix of a site served below the root.
        self.path = "/" + reverse("inbox:instagram_webhook").removeprefix(get_script_prefix())

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info != self.path:
            return self.get_response(request)
        request.get_host()  # DisallowedHost: a 400, as further down the stack
        response = instagram_webhook(request)
        response.headers["Content-Length"] = str(len(response.content))
        return response
