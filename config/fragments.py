"""Rendered HTML of small public fragments, kept per process.

A fragment here is rendered from a template whose output depends on nothing
but its key: the caller puts every value the template reads into the key
(and the language and time zone are added here), so an entry can never be
wrong, only unused; nothing expires and nothing needs clearing. Only public
catalogue data may go in (never anything about a visitor). The cache is a
bounded LRU in each process's memory: no network round trip, nothing to
lose when Redis is down.

Used for the catalogue's filter form (`catalogue.filter_form`): Django
renders a form through about twenty templates, and most fields of most
searches are as another search had them. (Course cards were kept here too
until their rendering was made cheap enough not to need it:
`catalogue.course_cards`.)
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from django.utils import timezone
from django.utils.translation import get_language


class FragmentMemo:
    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_render(self, key: tuple, render: Callable[[], str]) -> str:
        key = (get_language(), timezone.get_current_timezone_name(), *key)
        with self._lock:
            html = self._entries.get(key)
            if html is not None:
                self._entries.move_to_end(key)
                return html
        html = render()
        with self._lock:
            self._entries[key] = html
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return html

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
