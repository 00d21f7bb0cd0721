"""Models that compare a save with what was read: which course a session,
or which organisation a membership, was read with (a move changes both),
and an organisation's kind."""


class RemembersLoaded:
    """Keeps the values of the fields in `remembered` as they were read (or
    last saved), as `_loaded_<field>`, so that `save` can tell what changed
    since: a field not read (deferred) is remembered as None, and a partial
    refresh remembers only the fields it read."""

    remembered: tuple[str, ...] = ()

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance.remember_loaded()
        return instance

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        super().refresh_from_db(using, fields, from_queryset)
        self.remember_loaded(fields)

    def remember_loaded(self, fields=None) -> None:
        for name in self.remembered:
            if fields is None or {name, name.removesuffix("_id")} & set(fields):
                setattr(self, f"_loaded_{name}", self.__dict__.get(name))
