"""The Content-Security-Policy header on every page the app renders.

The policy is one fixed string (no nonces: no template carries inline script, and a test
keeps it so), so a dozen lines of middleware do what a library would, with nothing to
configure per view. A response that already has a policy keeps it: uploaded media set their
own (`sandbox`). Django admin gets one allowance, style attributes, which its change pages'
read-only fields use; scripts stay as strict there as everywhere.

Placed below WhiteNoise and the webhook's shortcut: static files and Meta's webhook answers
are not pages, and skip it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

HEADER = "Content-Security-Policy"
ADMIN_ALLOWANCE = {"style-src-attr": ["'unsafe-inline'"]}


def csp_header_value(directives: Mapping[str, Sequence[str]]) -> str:
    return "; ".join(" ".join([name, *sources]) for name, sources in directives.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        directives: Mapping[str, Sequence[str]] = settings.CONTENT_SECURITY_POLICY
        self.policy = csp_header_value(directives)
        self.admin_policy = csp_header_value({**directives, **ADMIN_ALLOWANCE})
        self.admin_prefix = reverse("admin:index")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Django's technical error pages (DEBUG only) style and script themselves inline.
        if HEADER in response.headers or (settings.DEBUG and response.status_code >= 400):
            return response
        admin = request.path.startswith(self.admin_prefix)
        response.headers[HEADER] = self.admin_policy if admin else self.policy
        return response
