from django.contrib import admin

from .models import Disclosure


@admin.register(Disclosure)
class DisclosureAdmin(admin.ModelAdmin):
    list_display = ("disclosed_at", "person", "recipient", "fields", "purpose", "reference")
    list_filter = ("recipient",)
    search_fields = ("person__email", "recipient", "reference")
    list_select_related = ("person",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
