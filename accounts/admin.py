from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportMixin

from privacy.imports import SourceImportMixin

from .imports import PersonResource
from .models import Organisation, Profile, User


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    # Equality data is deliberately absent: it is seen only by the person and,
    # in aggregate, by reports.
    fields = (
        "organisation",
        "job_title",
        "phone",
        "address_line_1",
        "address_line_2",
        "town",
        "postcode",
    )
    autocomplete_fields = ("organisation",)


@admin.register(User)
class UserAdmin(SourceImportMixin, ImportMixin, BaseUserAdmin):
    resource_classes = [PersonResource]
    inlines = (ProfileInline,)
    ordering = ("email",)
    list_display = (
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "is_active",
        "date_joined",
    )
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Name"), {"fields": ("first_name", "last_name")}),
        (
            _("Permissions"),
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        (
            _("Data protection"),
            {
                "fields": (
                    "processing_restricted",
                    "objects_to_direct_marketing",
                    "erased_at",
                )
            },
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),
    )
    # Only superusers grant roles or set passwords: a role that may change
    # people's records must not be able to promote itself or take over accounts.
    PRIVILEGED = ("is_staff", "is_superuser", "groups", "user_permissions")

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return fields
        fields = (*fields, *self.PRIVILEGED, "password", "email")
        if obj is not None and (obj.is_staff or obj.is_superuser):
            # Only a superuser deactivates a staff or superuser account.
            fields = (*fields, "is_active")
        return fields

    def user_change_password(self, request, id, form_url=""):
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    readonly_fields = (
        "last_login",
        "date_joined",
        "processing_restricted",
        "objects_to_direct_marketing",
        "erased_at",
        "import_source",
        "imported_at",
    )


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "area", "created_at")
    list_filter = ("kind", "area")
    search_fields = ("name", "area")
