"""`make run` is quiet unless asked: the Procfile, with the environment scripts/run sets
(LOG_LEVEL=WARNING and what follows from it), starts web, worker and beat without banners,
access logs or warnings a newcomer cannot act on; and the address is printed once the web
answers (scripts/wait_web.py)."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.processes import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from wait_web import web_wait

BIN = Path(sys.executable).parent
NOISE = (
    "No hostname was supplied",
    "superuser privileges",
    "[tasks]",  # Celery's banner
    "celery beat v",
    "Booting worker",  # gunicorn at INFO
    "GET /healthz/",  # an access log line
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def quiet_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "PYTEST"))}
    for name in ("TESTING", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER"):
        env.pop(name, None)
    env.update(
        PATH=f"{BIN}:{env.get('PATH', '')}",
        DEBUG="true",
        PORT=str(free_port()),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        BROKER_DIR=str(tmp_path / "broker"),
        # What scripts/run exports by default:
        LOG_LEVEL="WARNING",
        ACCESS_LOG="/dev/null",
        CELERY_QUIET="1",
        PYTHONWARNINGS="ignore:You're running the worker with superuser privileges",
    )
    migrate = [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"]
    subprocess.run(migrate, cwd=ROOT, env=env, check=True, timeout=120)
    return env


def test_the_stack_starts_quietly(quiet_env, tmp_path):
    schedule = tmp_path / "beat-schedule"
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        (ROOT / "Procfile").read_text().replace("var/celerybeat-schedule", str(schedule))
    )
    stack = subprocess.Popen(
        [str(BIN / "honcho"), "start", "-f", str(procfile), "-d", str(ROOT)],
        cwd=ROOT,
        env=quiet_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert web_wait(port=int(quiet_env["PORT"]), timeout=60)
        time.sleep(4)  # the worker and beat have started and said what they would say
    finally:
        os.killpg(stack.pid, signal.SIGTERM)
        output, _ = stack.communicate(timeout=30)
    running = output.split("sending SIGTERM")[0]  # what it said before being stopped
    for noise in NOISE:
        assert noise not in running, running
    said = [line for line in running.splitlines() if "system   |" not in line]
    assert said == [], running  # nothing between the start and the address


def test_waiting_for_the_web_gives_up_when_nothing_answers():
    started = time.monotonic()
    assert web_wait(port=free_port(), timeout=0.5) is False
    assert time.monotonic() - started < 5
