"""Static files in production: web refuses to start before `collectstatic`, and a page never
fails for want of one file.

With DEBUG off, templates ask the manifest for each file's hashed name. Without a manifest
(no `collectstatic`), or with one older than the code (a file added since), every page that
names such a file would answer 500. The check below finds that at start instead, and says
which command fixes it; the storage turns any miss left at run time into one file's 404.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.contrib.staticfiles.finders import get_finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from whitenoise.storage import CompressedManifestStaticFilesStorage

# The tag of checks that only web's start needs: `collectstatic` and `migrate` run before
# the files are collected, so they must not run this check (see `static_files_require`).
WEB_START = "web_start"
COLLECTSTATIC = "python manage.py collectstatic --noinput"


class ForgivingManifestStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's compressed, hashed storage, but a file missing from the manifest is
    linked by its plain name (a 404 for that file) instead of failing the whole page.

    Silently: WhiteNoise asks for names that do not exist to tell hashed files apart, and
    the start check has already named the command that collects what is missing."""

    def stored_name(self, name: str) -> str:
        try:
            return str(super().stored_name(name))
        except ValueError:
            return name


def _collected_names() -> set[str] | None:
    """The files the manifest in STATIC_ROOT lists (read now, not the copy loaded at start);
    None when there is no readable manifest."""
    try:
        content = staticfiles_storage.read_manifest()  # type: ignore[attr-defined]
        paths = json.loads(content)["paths"] if content else None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return set(paths) if isinstance(paths, dict) else None


def _source_names() -> set[str]:
    """Every file `collectstatic` would collect."""
    ignore = apps.get_app_config("staticfiles").ignore_patterns  # type: ignore[attr-defined]
    return {path for finder in get_finders() for path, _storage in finder.list(ignore)}


def static_files_collected_check(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """An error when pages would link static files that `collectstatic` has not collected."""
    # The class, not the storage: a storage reads its manifest when made, and may fail.
    if not issubclass(
        import_string(settings.STORAGES["staticfiles"]["BACKEND"]), ManifestFilesMixin
    ):
        return []  # DEBUG and tests serve the files from where they are.
    collected = _collected_names()
    hint = f"Run `{COLLECTSTATIC}` before starting web."
    if collected is None:
        where = f"no manifest in STATIC_ROOT ({settings.STATIC_ROOT})"
        return [
            checks.Error(f"Static files are not collected: {where}.", hint=hint, id="common.E001")
        ]
    missing = sorted(_source_names() - collected)
    if missing:
        shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        message = (
            f"Static files changed since they were collected: {len(missing)} missing ({shown})."
        )
        return [checks.Error(message, hint=hint, id="common.E002")]
    return []


def static_files_require() -> None:
    """Refuse to start web (raise) while static files are not collected; gunicorn runs no
    system checks of its own."""
    found = checks.run_checks(tags=[WEB_START], include_deployment_checks=True)
    errors = [message for message in found if message.is_serious()]
    if errors:
        raise ImproperlyConfigured("\n".join(f"{e.msg} {e.hint}" for e in errors))
