"""Demo data: logins for each role, a realistic catalogue, and activity so
every page has something to show on first run: past sessions with attendance
and certificates, bookings, waiting lists, funding requests in every status and
apprenticeship applications in every status. Running it twice changes nothing
(each piece is made only when it is missing)."""

import datetime as dt
import random
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts import roles
from accounts.models import Membership, Organisation, User
from accounts.services import profile_for
from courses import services
from courses.models import Course, Provider, Session, Topic

DEMO_PASSWORD = "cpd-demo-2026"  # noqa: S105 - printed for the local demo only
# The demo school's CPD lead: books, approves and sees the account.
LEAD = "lead@example.com"

DEMO_USERS = [
    ("learner@example.com", "Lee", "Learner", None, False, False),
    ("lead@example.com", "Cara", "Lead", None, False, False),
    ("courses@example.com", "Cora", "Admin", roles.COURSE_ADMINS, True, False),
    ("bookings@example.com", "Bo", "Bookings", roles.BOOKING_ADMINS, True, False),
    ("dpo@example.com", "Dana", "Protection", roles.DATA_PROTECTION_LEAD, True, False),
    ("funding@example.com", "Fay", "Funding", roles.FUNDING_OFFICERS, True, False),
    ("admin@example.com", "Sam", "Super", None, True, True),
]

TOPICS = [
    "Safeguarding",
    "Leadership and management",
    "Special educational needs",
    "Mental health and wellbeing",
    "Clinical skills",
    "Digital skills",
    "Health and safety",
    "Equality, diversity and inclusion",
    "Curriculum and teaching",
    "Prescribing and medicines",
]

PROVIDERS = [
    ("Learning Trust Training Hub", Provider.Kind.INTERNAL, False),
    ("Primary Care Training Hub", Provider.Kind.INTERNAL, False),
    ("County Council Partners", Provider.Kind.PARTNER, False),
    ("SkillsFirst Ltd", Provider.Kind.THIRD_PARTY, True),
    ("Northgate Consulting", Provider.Kind.THIRD_PARTY, True),
    ("University of Westmoor", Provider.Kind.HIGHER_EDUCATION, True),
]

SUBJECTS = [
    ("Safeguarding children level 3", "Safeguarding"),
    ("Safeguarding adults: recognising abuse", "Safeguarding"),
    ("Designated safeguarding lead refresher", "Safeguarding"),
    ("Prevent duty awareness", "Safeguarding"),
    ("Leading a team through change", "Leadership and management"),
    ("New middle leaders programme", "Leadership and management"),
    ("Managing difficult conversations", "Leadership and management"),
    ("Budgeting for school business managers", "Leadership and management"),
    ("Supporting pupils with autism", "Special educational needs"),
    ("SENCo network meeting", "Special educational needs"),
    ("Dyslexia-friendly classrooms", "Special educational needs"),
    ("Writing effective EHC plans", "Special educational needs"),
    ("Mental health first aid", "Mental health and wellbeing"),
    ("Staff wellbeing and resilience", "Mental health and wellbeing"),
    ("Suicide prevention awareness", "Mental health and wellbeing"),
    ("Trauma-informed practice", "Mental health and wellbeing"),
    ("Basic life support and anaphylaxis", "Clinical skills"),
    ("Cervical screening for practice nurses", "Clinical skills"),
    ("Spirometry update", "Clinical skills"),
    ("Wound care essentials", "Clinical skills"),
    ("Phlebotomy for healthcare assistants", "Clinical skills"),
    ("Using spreadsheets well", "Digital skills"),
    ("Cyber security for staff", "Digital skills"),
    ("Getting the most from the clinical system", "Digital skills"),
    ("AI tools in the classroom", "Digital skills"),
    ("Fire marshal training", "Health and safety"),
    ("Manual handling", "Health and safety"),
    ("Educational visits leader", "Health and safety"),
    ("Infection prevention and control", "Health and safety"),
    ("Unconscious bias", "Equality, diversity and inclusion"),
    ("Inclusive recruitment", "Equality, diversity and inclusion"),
    ("Anti-racist practice in schools", "Equality, diversity and inclusion"),
    ("Early reading and phonics", "Curriculum and teaching"),
    ("Mastery in primary maths", "Curriculum and teaching"),
    ("Assessment without levels", "Curriculum and teaching"),
    ("Teaching oracy", "Curriculum and teaching"),
    ("Early career teacher induction", "Curriculum and teaching"),
    ("Non-medical prescribing update", "Prescribing and medicines"),
    ("Medicines management in care homes", "Prescribing and medicines"),
    ("Antimicrobial stewardship", "Prescribing and medicines"),
    ("Polypharmacy and structured medication reviews", "Prescribing and medicines"),
    ("Diabetes foot checks", "Clinical skills"),
]

VENUES = [
    "Training Hub, 1 Market Street, Westmoor WM1 2AB",
    "Civic Centre, Room 4, Westmoor WM2 3CD",
    "Oak Tree Primary School, Westmoor WM3 4EF",
    "Riverside Medical Centre, Westmoor WM4 5GH",
]

DEMO_PRODUCTS = {
    "annual-safeguarding-subscription": {
        "name": "Annual safeguarding subscription",
        "summary": "A year of safeguarding updates, policy templates and an "
        "audit visit for your school or practice.",
        "description": "Termly briefings on changes to statutory guidance, model "
        "policies to adapt, a helpline for your designated safeguarding lead "
        "and one on-site safeguarding audit a year.",
        "price": Decimal("450.00"),
        "buyers": "organisations",
    },
    "consultancy-day": {
        "name": "Consultancy day",
        "summary": "A day with one of our advisers, in person or online, on a "
        "subject you choose.",
        "description": "Curriculum reviews, leadership coaching, inspection "
        "preparation or clinical governance: tell us what you need and we will "
        "match you with an adviser and agree the date.",
        "price": Decimal("395.00"),
        "buyers": "both",
    },
    "resource-pack": {
        "name": "Classroom resource pack",
        "summary": "Printed and digital resources for teaching early reading "
        "and phonics.",
        "description": "Decodable readers, phonics flash cards and a planning "
        "guide, posted to you, with the digital versions to download.",
        "price": Decimal("35.00"),
        "stock": 50,
        "buyers": "people",
    },
}


class Command(BaseCommand):
    help = "Load demo logins and a catalogue of courses and sessions (idempotent)."

    def handle(self, *args, **options):
        with transaction.atomic():
            self._users()
            created = self._catalogue()
            self._services()
            from courses.management.demo_activity import add_activity

            add_activity()
        services.reindex_courses()
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready ({created} new courses).")
        )
        self.stdout.write(f"Site: {settings.SITE_URL}/")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, _first, _last, group, _staff, superuser in DEMO_USERS:
            role = "superuser" if superuser else (group or "learner")
            if email == LEAD:
                role = "CPD lead of Oak Tree Primary School (/organisation/)"
            self.stdout.write(f"  {email:<24} {role}")
        from courses.management.demo_activity import PEOPLE

        self.stdout.write(
            f"  {PEOPLE[0][0]} ... {PEOPLE[-1][0]}: learners with bookings, "
            "certificates, funding requests and applications"
        )
        self.stdout.write(
            "Staff accounts set up two-factor authentication on first use of "
            "/admin/ or /staff/."
        )

    def _users(self) -> None:
        org, _ = Organisation.objects.get_or_create(
            name="Oak Tree Primary School",
            defaults={"kind": Organisation.Kind.SCHOOL, "area": "Westmoor"},
        )
        Organisation.objects.get_or_create(
            name="Riverside Medical Centre",
            defaults={"kind": Organisation.Kind.PRACTICE, "area": "Westmoor"},
        )
        for email, first, last, group, staff, superuser in DEMO_USERS:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(
                    email,
                    DEMO_PASSWORD,
                    first_name=first,
                    last_name=last,
                    is_staff=staff,
                    is_superuser=superuser,
                )
                EmailAddress.objects.create(
                    user=user, email=email, primary=True, verified=True
                )
                profile = profile_for(user)
                profile.organisation = org
                profile.job_title = "Teacher" if not staff else "Training coordinator"
                profile.save()
            if group:
                user.groups.add(Group.objects.get(name=group))
        # The school pays for places on account and approves its staff's
        # bookings; the demo learner is a confirmed member, the lead holds
        # every role.
        Organisation.objects.filter(pk=org.pk).update(
            pays_on_account=True,
            bookings_need_approval=True,
            purchase_order=org.purchase_order or "PO-OAK-2026",
            email_domain=org.email_domain or "oaktree.example",
        )
        for email in ("learner@example.com", LEAD):
            user = User.objects.get(email=email)
            roles_held = (
                {"is_booker": True, "is_approver": True, "is_finance_contact": True}
                if email == LEAD
                else {}
            )
            Membership.objects.get_or_create(
                person=user,
                organisation=org,
                defaults={
                    "status": Membership.Status.CONFIRMED,
                    "confirmed_at": timezone.now(),
                    **roles_held,
                },
            )

    def _services(self) -> None:
        """Services sold besides places (products app). Imported here: the
        demo data spans every app, the courses app itself does not."""
        from products.models import Product

        for slug, fields in DEMO_PRODUCTS.items():
            Product.objects.get_or_create(slug=slug, defaults=fields)

    def _catalogue(self) -> int:
        rng = random.Random(2026)
        topics = {}
        for name in TOPICS:
            topics[name], _ = Topic.objects.get_or_create(
                name=name, defaults={"slug": slugify(name)}
            )
        providers = []
        for name, kind, shares in PROVIDERS:
            p, _ = Provider.objects.get_or_create(
                name=name,
                defaults={
                    "kind": kind,
                    "shares_attendee_details": shares,
                    "contact_email": f"bookings@{slugify(name)}.example",
                },
            )
            providers.append(p)
        today = timezone.localdate()
        created = 0
        for i, (title, topic_name) in enumerate(SUBJECTS):
            provider = providers[i % len(providers)]
            mode = [
                Course.Mode.IN_PERSON,
                Course.Mode.LIVE_ONLINE,
                Course.Mode.E_LEARNING,
            ][i % 3]
            price = (
                Decimal("0")
                if i % 3 == 0
                else Decimal(rng.choice([25, 45, 60, 95, 150, 220]))
            )
            course, made = Course.objects.get_or_create(
                slug=slugify(title),
                defaults={
                    "title": title,
                    "summary": f"{title}: practical CPD for staff in schools and primary care.",
                    "description": (
                        f"This course covers {title.lower()}. You will work through real "
                        "cases with colleagues, leave with a plan for your own setting and "
                        "receive a certificate of attendance for your CPD record."
                    ),
                    "provider": provider,
                    "cpd_hours": Decimal(rng.choice(["1.5", "3", "3", "6", "6", "12"])),
                    "price": price,
                    "mode": mode,
                    "status": Course.Status.PUBLISHED
                    if i < 40
                    else Course.Status.DRAFT,
                },
            )
            if not made:
                continue
            created += 1
            extra = rng.sample(TOPICS, 1)
            course.topics.set({topics[topic_name], *(topics[t] for t in extra)})
            for n in range(4 if i % 3 else 3):
                day = today + dt.timedelta(days=rng.randint(3, 180))
                hour = rng.choice([9, 10, 13, 16])
                starts = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))
                Session.objects.create(
                    course=course,
                    starts_at=starts,
                    ends_at=starts + dt.timedelta(hours=rng.choice([1, 2, 3, 6])),
                    capacity=rng.choice([2, 12, 16, 20, 30, 100]) if n else 3,
                    venue="" if mode != Course.Mode.IN_PERSON else rng.choice(VENUES),
                    joining_url=(
                        ""
                        if mode == Course.Mode.IN_PERSON
                        else f"https://meet.example/{course.slug}-{n}"
                    ),
                )
        return created
