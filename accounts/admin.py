from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
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
