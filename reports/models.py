from django.db import models
from django.utils.translation import gettext_lazy as _


class Report(models.Model):
    """No table: it only holds the permissions that open the reports under
    /staff/reports/ (accounts.roles gives them to the roles)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_booking_reports", _("See booking, attendance and fill reports")),
            ("view_funding_report", _("See the funding report")),
            ("view_workforce_report", _("See the workforce-monitoring report")),
        ]

    def __str__(self) -> str:
        return "Reports"
