from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Inbox"

    def ready(self) -> None:
        # Services queue tasks by name: register them in every process, the web's too.
        from . import tasks  # noqa: F401
