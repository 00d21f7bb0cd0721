"""The "Send again" admin action shared by every outbox's admin list (booking
and funding mail, campaign deliveries). Each admin names its service in
`send_again_service`: a function of (ids, by=user) -> (queued, refused)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


class SendAgainMixin:
    send_again_service = None

    def has_resend_permission(self, request) -> bool:
        # Not `has_change_permission`: an admin may keep its rows read-only.
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @admin.action(
        description=_("Send again (messages not sent only)"), permissions=["resend"]
    )
    def send_again(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        queued, refused = type(self).send_again_service(ids, by=request.user)
        if queued:
            self.message_user(
                request,
                ngettext(
                    "%(n)d message will be sent again.",
                    "%(n)d messages will be sent again.",
                    queued,
                )
                % {"n": queued},
                messages.SUCCESS,
            )
        if refused:
            self.message_user(
                request,
                ngettext(
                    "%(n)d message was cancelled, not sent: the person's data "
                    "was erased.",
                    "%(n)d messages were cancelled, not sent: the people's data "
                    "was erased.",
                    refused,
                )
                % {"n": refused},
                messages.WARNING,
            )
        if not queued and not refused:
            self.message_user(
                request,
                _(
                    "Nothing was sent again: only messages shown as not sent "
                    "can be (the others are sent, queued or cancelled)."
                ),
                messages.INFO,
            )
