"""Read a rendered page's forms the way a browser would submit them."""

from html.parser import HTMLParser

from config.idempotency import FIELD


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._by_id: dict[str, dict] = {}
        self._late: list[tuple[str, str, str]] = []  # (form id, name, value)
        self._current: dict | None = None
        self._select: tuple[dict | None, str, list, str | None] | None = None
        self._textarea: tuple[dict | None, str, list[str]] | None = None

    def _owner(self, attrs: dict) -> dict | None:
        if attrs.get("form"):
            return self._by_id.get(attrs["form"]) or {"late": attrs["form"]}
        return self._current

    def _add(self, owner, name, value):
        if owner is None or not name:
            return
        if "late" in owner:
            self._late.append((owner["late"], name, value))
        else:
            owner["fields"].append((name, value))

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = {
                "action": attrs.get("action", ""),
                "method": attrs.get("method", "get").lower(),
                "fields": [],
            }
            self.forms.append(self._current)
            if attrs.get("id"):
                self._by_id[attrs["id"]] = self._current
        elif tag == "input":
            kind = attrs.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self._add(self._owner(attrs), attrs.get("name"), attrs.get("value", ""))
        elif tag == "select":
            self._select = (self._owner(attrs), attrs.get("name", ""), [], None)
        elif tag == "option" and self._select:
            owner, name, options, chosen = self._select
            options.append(attrs.get("value", ""))
            if "selected" in attrs:
                chosen = attrs.get("value", "")
            self._select = (owner, name, options, chosen)
        elif tag == "textarea":
            self._textarea = (self._owner(attrs), attrs.get("name", ""), [])

    def handle_data(self, data):
        if self._textarea:
            self._textarea[2].append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None
        elif tag == "select" and self._select:
            owner, name, options, chosen = self._select
            value = chosen if chosen is not None else (options[0] if options else "")
            self._add(owner, name, value)
            self._select = None
        elif tag == "textarea" and self._textarea:
            owner, name, parts = self._textarea
            self._add(owner, name, "".join(parts).lstrip("\n"))
            self._textarea = None

    def close(self):
        super().close()
        for form_id, name, value in self._late:
            if form_id in self._by_id:
                self._by_id[form_id]["fields"].append((name, value))


def post_forms(html: str) -> list[dict]:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return [f for f in parser.forms if f["method"] == "post"]


def form_for(html: str, page: str, action: str) -> dict:
    """The POST form on `page` that submits to `action`: its fields as a dict
    (several values of one name as a list) and its token."""
    found = [f for f in post_forms(html) if (f["action"] or page) == action]
    assert found, f"no form on {page} posts to {action}"
    data: dict = {}
    for name, value in found[0]["fields"]:
        if name in data:
            data[name] = [
                *([data[name]] if isinstance(data[name], str) else data[name]),
                value,
            ]
        else:
            data[name] = value
    return data


def token_in(data: dict) -> str:
    token = data.get(FIELD)
    assert token, "the form carries no idempotency token"
    return token
