"""Services in the back office. Products are edited by the course
administrators (stock shown as "unlimited" when there is none to count).
Purchases are made only by buyers through `services.buy_product` and are
never added, edited or deleted here; "Cancel and credit" goes through
`services.cancel_purchase` and asks for `products.cancel_purchase`."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from config.admin_filters import name_contains

from . import services
from .models import Product, Purchase


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "price", "stock_left", "buyers", "active", "updated_at")
    list_filter = ("active", "buyers")
    search_fields = ("name", "summary", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at", "updated_at")
    fields = (
        "name",
        "slug",
        "summary",
        "description",
        "price",
        "stock",
        "buyers",
        "active",
        "created_at",
        "updated_at",
    )

    @admin.display(description=_("stock"), ordering="stock")
    def stock_left(self, obj: Product) -> str:
        return _("unlimited") if obj.stock is None else str(obj.stock)

    def has_delete_permission(self, request, obj=None):
        # A product someone bought stays, so the purchase keeps what it was.
        if obj is not None and obj.purchases.exists():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Purchase)
class PurchaseAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "product",
        "quantity",
        "total",
        "person",
        "organisation",
        "status",
    )
    list_filter = ("status", "product", name_contains("organisation"))
    list_select_related = ("product", "person", "organisation")
    search_fields = ("product__name", "person__email", "organisation__name")
    date_hierarchy = "created_at"
    fields = (
        "product",
        "person",
        "organisation",
        "quantity",
        "unit_price",
        "total",
        "status",
        "charge",
        "credit",
        "created_at",
        "cancelled_at",
        "cancelled_by",
    )
    readonly_fields = fields
    actions = ("cancel_selected",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm("products.cancel_purchase")

    @admin.action(
        description=_("Cancel selected purchases and credit what was charged"),
        permissions=["cancel"],
    )
    def cancel_selected(self, request, queryset):
        done = 0
        for purchase in queryset.filter(status=Purchase.Status.BOUGHT):
            try:
                services.cancel_purchase(purchase, by=request.user)
            except services.ProductsError as exc:
                self.message_user(request, f"{purchase}: {exc}", messages.ERROR)
            else:
                done += 1
        self.message_user(
            request,
            _("%(n)s purchase(s) cancelled and credited.") % {"n": done},
            messages.SUCCESS,
        )
