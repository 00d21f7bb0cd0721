from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "courses"

    def ready(self) -> None:
        from accounts.signals import members_changed

        from .services import members_changed as reserved_places_may_change

        # Who belongs to an organisation decides how many of a reservation's
        # places are left.
        members_changed.connect(
            reserved_places_may_change, dispatch_uid="courses.members_changed"
        )
