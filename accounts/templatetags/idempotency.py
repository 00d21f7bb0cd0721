"""`{% idempotency_field %}`: the hidden form token of `config.idempotency`."""

from django import template

from config import idempotency

register = template.Library()


@register.simple_tag
def idempotency_field() -> str:
    return idempotency.hidden_input()
