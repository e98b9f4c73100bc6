"""The reports app: managers' figures (response times, the reply window, workload) and CSV."""

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from django.db.models.signals import pre_delete

        from inbox.models import Conversation
        from inbox.signals import conversation_status_changed

        from . import tasks  # noqa: F401  (the beat schedule names the catch-up task)
        from .services.status import status_change_record
        from .services.totals import conversation_totals_remove

        # The inbox keeps only a conversation's current status; reports need when it changed.
        conversation_status_changed.connect(
            status_change_record, dispatch_uid="reports_status_change_record"
        )
        # A deleted conversation's activity leaves the per-account hourly totals with it.
        pre_delete.connect(
            conversation_totals_remove, sender=Conversation, dispatch_uid="reports_totals_remove"
        )
