"""`{% mfa_continue_path as url %}`: where "Continue" goes after the recovery
codes (accounts.middleware.mfa_continue_path)."""

from django import template

from ..middleware import mfa_continue_path as _continue_path

register = template.Library()


@register.simple_tag(takes_context=True)
def mfa_continue_path(context) -> str:
    return _continue_path(context["request"])
