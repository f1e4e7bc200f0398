import importlib
from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _default_chains_ensure(**kwargs: Any) -> None:
    # A database flushed after migrating (``flush``, transactional tests) loses the chains the
    # data migration made; put them back, exactly as that migration does. Existing ones stay.
    from django.apps import apps as global_apps

    chains = global_apps.get_model("approvals", "ReviewChain")
    before = set(chains.objects.values_list("pk", flat=True))
    importlib.import_module("approvals.migrations.0002_default_chains").create_chains(global_apps, None)
    made = set(chains.objects.values_list("pk", flat=True)) - before
    if made:
        # ... and as the later data migration left them: their Medical stages check claims' sources.
        claims = importlib.import_module("approvals.migrations.0007_claim_checks")
        global_apps.get_model("approvals", "ReviewStage").objects.filter(
            chain_id__in=made, group__name=claims.MEDICAL_GROUP, after_publication=False
        ).update(checks_claims=True)


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = _("Review chains")

    def ready(self) -> None:
        from approvals import services  # noqa: F401  (connects the review-restart receiver)
        from approvals.expiry import approval_validity_problems
        from approvals.move_check import review_compression_problem
        from approvals.panels import editor_comments_panel, review_panel
        from approvals.policy import stage_reviewer_may_read_document
        from consent.policy import document_access_register
        from posts.movechecks import move_check_register
        from posts.panels import editor_panel_register, panel_register
        from posts.sendgates import send_gate_register

        panel_register("review", review_panel)
        editor_panel_register("review_comments", editor_comments_panel)
        send_gate_register("approvals.approval_validity", approval_validity_problems)
        move_check_register("approvals.review_compression", review_compression_problem)
        document_access_register("approvals.deciding_stage", stage_reviewer_may_read_document)

        post_migrate.connect(_default_chains_ensure, sender=self, dispatch_uid="approvals.default_chains")
