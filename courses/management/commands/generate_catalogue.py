"""A large catalogue for benchmarks: N courses with M sessions each, in bulk."""

import datetime as dt
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from courses import services
from courses.catalogue_words import WORDS
from courses.models import Course, Provider, Session, Topic


class Command(BaseCommand):
    help = "Create a large catalogue (for benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("--courses", type=int, default=5000)
        parser.add_argument("--sessions-per-course", type=int, default=4)
        parser.add_argument("--prefix", default="gen")

    def handle(
        self, *args, courses: int, sessions_per_course: int, prefix: str, **options
    ):
        if courses < 1 or sessions_per_course < 0:
            raise CommandError(
                "--courses must be at least 1 and --sessions-per-course at least 0."
            )
        with transaction.atomic():
            providers = [
                Provider.objects.get_or_create(
                    name=f"{prefix.title()} provider {k}",
                    defaults={"kind": list(Provider.Kind)[k % 4]},
                )[0]
                for k in range(10)
            ]
            topics = [
                Topic.objects.get_or_create(name=f"{w.title()}", defaults={"slug": w})[
                    0
                ]
                for w in WORDS[:12]
            ]
            start = Course.objects.filter(slug__startswith=f"{prefix}-").count()
            batch = []
            for i in range(start, start + courses):
                w1, w2 = WORDS[i % len(WORDS)], WORDS[(i * 7 + 3) % len(WORDS)]
                batch.append(
                    Course(
                        slug=f"{prefix}-{i}",
                        title=f"{w1.title()} and {w2} {i}",
                        summary=f"A course on {w1} and {w2}.",
                        description=f"Learn about {w1}, {w2} and more. " * 5,
                        provider=providers[i % len(providers)],
                        cpd_hours=Decimal(i % 7 + 1),
                        price=Decimal(0 if i % 3 == 0 else (i % 9) * 10),
                        mode=list(Course.Mode)[i % 3],
                        status=Course.Status.PUBLISHED,
                    )
                )
            made = Course.objects.bulk_create(batch, batch_size=1000)
            Through = Course.topics.through
            Through.objects.bulk_create(
                [
                    Through(course_id=c.pk, topic_id=topics[k % len(topics)].pk)
                    for k, c in enumerate(made)
                ],
                batch_size=2000,
            )
            now = timezone.now().replace(minute=0, second=0, microsecond=0)
            sessions = []
            for k, c in enumerate(made):
                for j in range(sessions_per_course):
                    starts = now + dt.timedelta(days=1 + (k + j * 11) % 180, hours=j)
                    sessions.append(
                        Session(
                            course=c,
                            starts_at=starts,
                            ends_at=starts + dt.timedelta(hours=2),
                            capacity=10 + (k % 20),
                        )
                    )
            Session.objects.bulk_create(sessions, batch_size=2000)
        services.reindex_courses()
        self.stdout.write(f"Created {len(made)} courses and {len(sessions)} sessions.")
