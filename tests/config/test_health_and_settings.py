import os
import subprocess
from unittest import mock

import pytest
from django.db import OperationalError

from tests.processes import python_run


@pytest.mark.django_db
def test_it_answers_healthz_when_the_database_answers(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.content == b"ok\n"


@pytest.mark.django_db
def test_it_answers_503_when_the_database_does_not(client):
    with mock.patch("config.views.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz/")
    assert response.status_code == 503


def _run_in_production(
    code: str = "import config.settings", **overrides: str
) -> subprocess.CompletedProcess:
    """`code` in a fresh interpreter with the production environment (DEBUG off, every
    secret set), `overrides` on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "PYTEST"))}
    env.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": "s",
            "ALLOWED_HOSTS": "example.com",
            "TOKEN_ENCRYPTION_KEYS": "dGVzdC1rZXktbm90LWZvci1wcm9kdWN0aW9uLXVzZSE=",
        }
    )
    env.update(overrides)
    return python_run(code, env)


def test_it_starts_with_every_production_secret_set():
    assert _run_in_production().returncode == 0


@pytest.mark.parametrize("name", ["SECRET_KEY", "ALLOWED_HOSTS", "TOKEN_ENCRYPTION_KEYS"])
def test_it_refuses_to_start_without_a_secret_when_debug_is_off(name):
    result = _run_in_production(**{name: ""})
    assert result.returncode != 0
    assert f"{name} must be set when DEBUG is off" in result.stderr


def test_it_starts_without_secrets_in_debug():
    result = _run_in_production(
        DEBUG="true", SECRET_KEY="", ALLOWED_HOSTS="", TOKEN_ENCRYPTION_KEYS=""
    )
    assert result.returncode == 0, result.stderr


def test_the_web_application_loads_its_views_and_leaves_them_out_of_garbage_collection(
    collected_static_root,
):
    """What a web process loads lives as long as it does; a full collection walking it all
    would stop every request in the process for tens of milliseconds."""
    code = (
        "import gc, sys, config.wsgi; "
        "print(gc.get_freeze_count(), len(gc.get_objects()), 'inbox.views' in sys.modules)"
    )
    result = _run_in_production(code, STATIC_ROOT=str(collected_static_root))
    assert result.returncode == 0, result.stderr
    frozen, tracked, views_loaded = result.stdout.split()
    assert int(frozen) > 10_000
    assert int(tracked) < int(frozen) // 100
    assert views_loaded == "True"


def test_gunicorn_started_from_the_project_root_runs_eight_threads_a_process():
    """The Procfile, the Dockerfile and docker-compose.yml leave the threads to
    gunicorn.conf.py: webhooks waiting on their commits need them."""
    code = (
        "import sys; from gunicorn.app.wsgiapp import run; "
        "sys.argv = ['gunicorn', '--print-config', 'config.wsgi']; run()"
    )
    result = _run_in_production(code)
    assert result.returncode == 0, result.stderr
    settings = dict(
        (name.strip(), value.strip())
        for name, _, value in (line.partition("=") for line in result.stdout.splitlines())
    )
    assert settings["config"] == "./gunicorn.conf.py"
    assert settings["threads"] == "8"


def test_worker_processes_leave_what_they_loaded_out_of_garbage_collection():
    import gc

    from config.celery import leave_loaded_code_out_of_garbage_collection

    try:
        leave_loaded_code_out_of_garbage_collection()
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
