"""CSV import of people received from elsewhere (see privacy.imports)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from privacy.imports import StampedResource

from .models import User


class PersonResource(StampedResource):
    """Columns: email, first_name, last_name. Existing people (by email) are
    updated with the names given, never their sign-in details."""

    class Meta:
        model = User
        fields = ("email", "first_name", "last_name")
        import_id_fields = ("email",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def before_import_row(self, row, **kwargs):
        email = (row.get("email") or "").strip().lower()
        if not email:
            raise ValidationError({"email": _("Every row needs an email address")})
        row["email"] = email

    def after_init_instance(self, instance, new, row, **kwargs):
        if new:
            instance.set_unusable_password()
