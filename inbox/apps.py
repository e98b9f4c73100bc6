from django.apps import AppConfig
from django.core import checks


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Inbox"

    def ready(self) -> None:
        from common.staticfiles import WEB_START, static_files_collected_check

        # Services queue tasks by name: register them in every process, the web's too.
        from . import tasks  # noqa: F401
        from .services.live import live_signals_connect

        # The live polls' change stamps follow every conversation, message and reaction saved.
        live_signals_connect()

        # A deployment check only, as `collectstatic` and `migrate` run before the files
        # are collected; config/wsgi.py runs it when web starts.
        checks.register(static_files_collected_check, WEB_START, deploy=True)
