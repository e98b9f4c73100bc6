from typing import Any

from django.conf import settings
from django.http import HttpRequest


def sandbox(request: HttpRequest) -> dict[str, Any]:
    return {"sandbox_enabled": settings.SANDBOX_ENABLED}
