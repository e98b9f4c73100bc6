"""The Celery app: settings from Django's (`CELERY_*`), tasks from every app's `tasks` module,
and the beat schedule in `settings.py`."""

import gc
import os
from pathlib import Path
from typing import Any

from celery import Celery
from celery.signals import worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def ensure_broker_folders() -> None:
    """The filesystem transport needs its folders before anything publishes or consumes."""
    options = app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


ensure_broker_folders()


@worker_ready.connect
@worker_process_init.connect
def leave_loaded_code_out_of_garbage_collection(**kwargs: Any) -> None:
    """As in the web processes (config/wsgi.py): what a worker process has loaded once it
    is ready lives as long as the process, and a full collection would walk all of it, tens
    of milliseconds each time. Runs in each pool process, and in the main one (where the solo
    and threads pools run tasks)."""
    gc.collect()
    gc.freeze()
