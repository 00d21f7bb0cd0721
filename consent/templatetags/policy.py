from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def policy_text(text: str) -> str:
    """Plain policy text to HTML: '## ' headings, '- ' bullets, blank-line paragraphs.
    Everything is escaped first, so admins cannot inject markup."""
    html, bullets, para = [], [], []

    def flush():
        if para:
            html.append(f'<p class="govuk-body">{" ".join(para)}</p>')
            para.clear()
        if bullets:
            items = "".join(f"<li>{b}</li>" for b in bullets)
            html.append(f'<ul class="govuk-list govuk-list--bullet">{items}</ul>')
            bullets.clear()

    for raw in (text or "").splitlines():
        line = escape(raw.strip())
        if not line:
            flush()
        elif line.startswith("## "):
            flush()
            html.append(f'<h2 class="govuk-heading-m">{line[3:]}</h2>')
        elif line.startswith("- "):
            if para:
                flush()
            bullets.append(line[2:])
        else:
            if bullets:
                flush()
            para.append(line)
    flush()
    return mark_safe("".join(html))  # noqa: S308 - built from escaped text only
