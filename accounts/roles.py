"""The back-office roles and the permissions each one holds.

The groups are created by a data migration (accounts 0002) and topped up after
every `migrate`, so that permissions of apps added later reach their role.
Permissions that do not exist yet (an app not built) are skipped.
"""

from django.contrib.auth.management import create_permissions

COURSE_ADMINS = "Course administrators"
BOOKING_ADMINS = "Booking administrators"
FUNDING_OFFICERS = "Funding officers"
DATA_PROTECTION_LEAD = "Data protection lead"
MARKETING_OFFICERS = "Marketing officers"
ANALYTICS_VIEWERS = "Analytics viewers"

ALL = ("add", "change", "delete", "view")

ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    COURSE_ADMINS: {
        "courses.provider": ALL,
        "courses.topic": ALL,
        "courses.course": ALL,
        "courses.session": ALL,
        # Ring-fenced places are ended early by date, never deleted.
        "courses.reservation": ("add", "change", "view"),
        "bookings.booking": ("view",),
        "bookings.evaluation": ("view",),
        "accounts.organisation": ("view",),
        # Services sold besides places: taken off sale, never deleted (a
        # purchase keeps what it bought).
        "products.product": ("add", "change", "view"),
        # Bookings, attendance and fill rates (reports/).
        "reports.report": ("view_booking_reports",),
    },
    BOOKING_ADMINS: {
        "bookings.booking": ("add", "change", "view"),
        "bookings.transaction": ("add", "view"),
        # change: "Send again" for booking mail not sent (the rows stay read-only).
        "bookings.mailrecord": ("change", "view"),
        "bookings.stafflog": ("view",),
        "bookings.evaluation": ("view",),
        "courses.course": ("view",),
        "courses.session": ("change", "view"),
        "courses.reservation": ("add", "change", "view"),
        "accounts.user": ("view",),
        "accounts.organisation": ("add", "change", "view"),
        "accounts.membership": ("add", "change", "delete", "view"),
        "consent.consentrecord": ("add", "view"),
        # The contact page (booking and funding teams' details).
        "consent.contactpoint": ("add", "change", "view"),
        # Purchases are made by buyers; staff cancel one with a credit.
        "products.product": ("view",),
        "products.purchase": ("view", "cancel_purchase"),
        "reports.report": ("view_booking_reports",),
    },
    FUNDING_OFFICERS: {
        "funding.fundingrequest": ("change", "view"),
        "funding.fundingstream": ALL,
        "funding.fundinground": ALL,
        "funding.fundingevent": ("view",),
        "funding.fundingdocument": ("view",),
        "funding.managersupport": ("view",),
        "funding.invoice": ("add", "view"),
        "funding.payment": ("add", "view"),
        "funding.progressupdate": ("view",),
        "funding.application": ("change", "view"),
        # Kinds of application learners can make, added without code.
        "funding.applicationtype": ("add", "change", "view"),
        "funding.fundingmail": ("change", "view"),
        "courses.provider": ("view",),
        "accounts.user": ("view",),
        "accounts.organisation": ("view",),
        # Organisations' accounts: invoices are raised, never added or edited
        # by hand, and payments are recorded through the same page.
        "organisations.invoice": ("view", "raise_invoices", "record_payment"),
        "organisations.invoiceline": ("view",),
        # Bank transfers: statements are uploaded and waiting lines decided
        # through their own pages; references and lines are never edited.
        "payments.paymentreference": ("view",),
        "payments.bankstatement": ("view", "upload_statement"),
        "payments.statementline": ("view", "resolve_statement_line"),
        # Card payments and refunds are Stripe's answers: seen, never edited;
        # a refund Stripe has not confirmed can be asked about again.
        "payments.cardpayment": ("view",),
        "payments.cardrefund": ("view",),
        "reports.report": ("view_funding_report",),
    },
    DATA_PROTECTION_LEAD: {
        "accounts.user": ("change", "view"),
        "accounts.profile": ("view",),
        "accounts.organisation": ("view",),
        "privacy.datasubjectrequest": (
            "add",
            "change",
            "view",
            "export_personal_data",
            "erase_personal_data",
            "restrict_processing",
        ),
        "privacy.retentionrun": ("view",),
        "privacy.auditevent": ("view",),
        # Disclosures are recorded, and withheld with a second person's
        # approval, never edited or deleted (privacy/disclosures.py).
        "privacy.disclosure": ("add", "view"),
        "privacy.transmission": ("view",),
        "privacy.transmissionmail": ("change", "view"),
        "consent.consentrecord": ("add", "view"),
        "consent.policyversion": ALL,
        "consent.processingpurpose": ALL,
        # The contact page: the data-protection lead's own details among them.
        "consent.contactpoint": ("add", "change", "view"),
        # The analytics dashboard: what is recorded, and that it is only totals.
        "analytics.pageview": ("view_dashboard",),
        # Every report; the only role that sees workforce (equality) monitoring.
        "reports.report": (
            "view_booking_reports",
            "view_funding_report",
            "view_workforce_report",
        ),
    },
    # Campaigns and surveys: who gets them is decided by consent at sending,
    # and results are totals, so no page of theirs shows one person's answers.
    MARKETING_OFFICERS: {
        "marketing.campaign": ("add", "change", "view"),
        "marketing.delivery": ("change", "view"),
        "surveys.survey": ("add", "change", "view"),
        "surveys.question": ALL,
        "courses.topic": ("view",),
    },
    # The staff analytics dashboard (/staff/analytics/): totals only, no person.
    ANALYTICS_VIEWERS: {
        "analytics.pageview": ("view_dashboard",),
    },
}


def sync_role_groups(sender=None, apps=None, **kwargs) -> None:
    """Create each role group and grant it every permission that exists now."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    try:
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
        apps.get_model("contenttypes", "ContentType")
    except LookupError:
        return
    for app_config in apps.get_app_configs():
        # Migration state apps carry no models module; create_permissions needs one.
        original = getattr(app_config, "models_module", None)
        app_config.models_module = original or True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = original
    for name, grants in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for model_label, actions in grants.items():
            app_label, model = model_label.split(".")
            # Plain verbs name model permissions; anything else is a custom codename.
            codenames = [
                f"{a}_{model}" if a in ("add", "change", "delete", "view") else a
                for a in actions
            ]
            wanted += list(
                Permission.objects.filter(
                    content_type__app_label=app_label, codename__in=codenames
                )
            )
        group.permissions.add(*wanted)
