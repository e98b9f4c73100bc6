"""The reports app: managers' figures (response times, the reply window, workload) and CSV."""

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from inbox.signals import conversation_status_changed

        from . import tasks  # noqa: F401  (the beat schedule names the catch-up task)
        from .services.status import status_change_record

        # The inbox keeps only a conversation's current status; reports need when it changed.
        conversation_status_changed.connect(
            status_change_record, dispatch_uid="reports_status_change_record"
        )
