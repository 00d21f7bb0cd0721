"""templates/django/forms/widgets/ writes out the includes of Django's own
widget templates (one include per input and per option made the catalogue's
filter form a fifth of a cold catalogue page's time). The HTML must stay
exactly Django's: each widget is rendered with both and compared."""

from django import forms
from django.forms.renderers import DjangoTemplates, TemplatesSetting

OURS = TemplatesSetting()  # the project's templates first, then Django's
DJANGOS = DjangoTemplates()  # Django's own widget templates only


class Sample(forms.Form):
    text = forms.CharField(max_length=20)
    choice = forms.ChoiceField(
        choices=[("", "Any"), ("x", "X <&>"), ("y", "Y")], required=False
    )
    grouped = forms.ChoiceField(
        choices=[("Group", [("1", "one"), ("2", "two")]), ("3", "three")]
    )
    tick = forms.BooleanField(required=False)
    email = forms.EmailField()
    number = forms.IntegerField(min_value=1)
    hidden = forms.CharField(widget=forms.HiddenInput)
    day = forms.DateField(widget=forms.DateInput)
    password = forms.CharField(widget=forms.PasswordInput)
    url = forms.URLField(assume_scheme="https")
    search = forms.CharField(widget=forms.TextInput(attrs={"type": "search"}))
    many = forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B")])


DATA = {
    "text": 'q"<x>',
    "choice": "x",
    "grouped": "2",
    "tick": "on",
    "email": "not an address",
    "number": "0",
    "hidden": "h",
    "day": "2020-01-01",
    "password": "secret",
    "url": "nope",
    "search": "&amp;",
    "many": ["a", "b"],
}


def _render(renderer, data):
    form = Sample(data, renderer=renderer)
    form.is_valid()
    return {name: form[name].as_widget() for name in form.fields}


def test_widgets_render_exactly_as_djangos_own_templates():
    for data in (DATA, None):
        ours, djangos = _render(OURS, data), _render(DJANGOS, data)
        for name in Sample.base_fields:
            assert ours[name] == djangos[name], name
    # The comparison is not vacuous: the selected option is there, escaped.
    assert (
        '<option value="x" selected>X &lt;&amp;&gt;</option>'
        in (_render(OURS, DATA)["choice"])
    )


def test_the_project_overrides_are_the_ones_used():
    from django.template.loader import get_template

    origin = get_template("django/forms/widgets/select.html").origin.name
    assert "/templates/django/forms/widgets/select.html" in origin
    assert "site-packages" not in origin
