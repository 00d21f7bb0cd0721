"""What every data migration that publishes a privacy notice version does:
append its new sections to the previous version's text, publish it, and add
its processing purposes. Idempotent (tests on a reused database run it again).
It works on the migration's historical models (`apps`), so later changes to
the live models cannot change what an old migration did."""

from django.utils import timezone


def publish_privacy_notice(
    apps,
    *,
    version: str,
    previous: str,
    added: str,
    summary: str,
    purposes: list[tuple[str, str, str, str, str, str]],
) -> None:
    PolicyVersion = apps.get_model("consent", "PolicyVersion")
    ProcessingPurpose = apps.get_model("consent", "ProcessingPurpose")
    earlier = PolicyVersion.objects.filter(kind="privacy", version=previous).first()
    body = (earlier.body if earlier else "").rstrip() + added
    PolicyVersion.objects.get_or_create(
        kind="privacy",
        version=version,
        defaults={
            "body": body,
            "published_at": timezone.now(),
            "summary_of_changes": summary,
        },
    )
    start = ProcessingPurpose.objects.count()
    for order, (name, description, basis, data, recipients, retention) in enumerate(
        purposes, start=start
    ):
        ProcessingPurpose.objects.get_or_create(
            name=name,
            defaults={
                "description": description,
                "lawful_basis": basis,
                "data_categories": data,
                "recipients": recipients,
                "retention": retention,
                "order": order,
            },
        )
