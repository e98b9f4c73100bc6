"""With DEBUG off, web starts only once static files are collected, and says how; no page
fails for want of a static file."""

import json
import os
import subprocess

import pytest
from django.core import checks

from common.staticfiles import WEB_START, static_files_collected_check
from tests.processes import python_run

COLLECTSTATIC = "python manage.py collectstatic --noinput"
MANIFEST_STORAGE = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "common.staticfiles.ForgivingManifestStorage"},
}


def _production(code: str, static_root: object) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "PYTEST"))}
    env.update(
        DEBUG="false",
        TESTING="false",
        SECRET_KEY="s",
        ALLOWED_HOSTS="example.com",
        TOKEN_ENCRYPTION_KEYS="dGVzdC1rZXktbm90LWZvci1wcm9kdWN0aW9uLXVzZSE=",
        STATIC_ROOT=str(static_root),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    return python_run(code, env)


def test_it_refuses_to_load_the_web_application_before_collectstatic(tmp_path):
    result = _production("import config.wsgi", tmp_path)
    assert result.returncode != 0
    assert "Static files are not collected" in result.stderr
    assert COLLECTSTATIC in result.stderr


def test_gunicorn_stops_with_the_command_to_run_instead_of_serving_500s(tmp_path):
    code = (
        "import sys; from gunicorn.app.wsgiapp import run; sys.argv = ['gunicorn', "
        "'config.wsgi', '--bind', '127.0.0.1:0', '--workers', '1']; run()"
    )
    result = _production(code, tmp_path)
    assert result.returncode != 0
    assert COLLECTSTATIC in result.stderr


def test_the_web_application_loads_once_static_files_are_collected(collected_static_root):
    result = _production("import config.wsgi; print('loaded')", collected_static_root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "loaded"


def test_the_deployment_check_names_the_command(tmp_path):
    result = _production(
        "from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy'])",
        tmp_path,
    )
    assert result.returncode != 0
    assert "common.E001" in result.stderr
    assert COLLECTSTATIC in result.stderr


def test_migrate_and_collectstatic_run_before_the_files_are_collected(tmp_path):
    """Only web's start and `check --deploy` need the files: the commands that come first
    in a deployment do not run the check."""
    result = _production(
        "from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check'])",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture
def manifest_storage(settings, tmp_path):
    """The storage production runs with, over an empty STATIC_ROOT."""
    settings.STORAGES = MANIFEST_STORAGE
    settings.STATIC_ROOT = tmp_path
    return tmp_path


def test_the_check_finds_files_added_since_the_last_collectstatic(
    collected_static_root, manifest_storage
):
    manifest = json.loads((collected_static_root / "staticfiles.json").read_text())
    del manifest["paths"]["js/inbox.js"]
    (manifest_storage / "staticfiles.json").write_text(json.dumps(manifest))
    [error] = checks.run_checks(tags=[WEB_START], include_deployment_checks=True)
    assert error.id == "common.E002"
    assert error.msg.endswith("1 missing (js/inbox.js).")
    assert COLLECTSTATIC in error.hint


def test_the_check_refuses_an_unreadable_manifest(manifest_storage):
    (manifest_storage / "staticfiles.json").write_text("{not json")
    [error] = static_files_collected_check()
    assert error.id == "common.E001"


def test_the_check_passes_when_every_file_is_collected(collected_static_root, settings):
    settings.STORAGES = MANIFEST_STORAGE
    settings.STATIC_ROOT = collected_static_root
    assert static_files_collected_check() == []


def test_the_check_has_nothing_to_say_when_files_are_served_from_where_they_are():
    assert static_files_collected_check() == []


@pytest.mark.django_db
def test_a_page_naming_an_uncollected_static_file_still_renders(manifest_storage, client):
    """Were the files deleted after start, a page still renders; the file alone is a 404."""
    (manifest_storage / "staticfiles.json").write_text('{"version": "1.1", "paths": {}}')
    response = client.get("/login/")
    assert response.status_code == 200
    assert b'href="/static/css/base.css"' in response.content
