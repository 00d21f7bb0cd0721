"""Signals the accounts app sends for other apps to act on (accounts depends
on no other project app, so it tells them rather than calling them)."""

from django.dispatch import Signal

# An organisation's members (who belongs, or their status) or its kind may
# have changed: sent after every write of memberships, by any means (a
# save, a delete, a cascade, a bulk update or create), and after an
# organisation's kind changes. Arguments: `organisations`, a set of
# Organisation ids; `was_kinds`, the kinds they had before, if changed.
# courses listens: a reservation's places left depend on who is a member.
members_changed = Signal()
