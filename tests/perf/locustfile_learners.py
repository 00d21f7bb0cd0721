"""Locust scenario: signed-in learners browsing, searching and booking.

Driven by `tests/perf/load_learners.py`, which prepares the people (each with a
signed-in session), the sessions they may book and the course pages, in the
JSON file named by LOAD_PLAN, then runs this file with `locust --headless`. Requests are named by page so that the
statistics are per page, not per URL.
"""

import itertools
import json
import os
import random
import re

from locust import HttpUser, between, task

PLAN = json.loads(open(os.environ["LOAD_PLAN"]).read())  # noqa: SIM115
SESSION_KEYS = PLAN["session_keys"]
BOOKABLE = PLAN["bookable"]  # [[session id, course slug], ...]
SLUGS = PLAN["slugs"]
SEARCHES = ["safeguarding", "leadership", "mental health", "phonics", "data", "send"]
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_next_key = itertools.cycle(SESSION_KEYS)


class Learner(HttpUser):
    wait_time = between(1, 3)

    def on_start(self):
        self.client.cookies.set("sessionid", next(_next_key))
        self.booked: set[int] = set()

    def get(self, path, name):
        with self.client.get(path, name=name, catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(f"{path}: {resp.status_code}")
            return resp

    @task(3)
    def home(self):
        self.get("/", "home")

    @task(4)
    def catalogue(self):
        self.get(f"/courses/?page={random.randint(1, 3)}", "catalogue")

    @task(3)
    def search(self):
        self.get(f"/courses/?q={random.choice(SEARCHES)}", "search")

    @task(4)
    def course(self):
        self.get(f"/courses/{random.choice(SLUGS)}/", "course page")

    @task(2)
    def my_bookings(self):
        self.get("/bookings/", "my bookings")

    @task(2)
    def book(self):
        """Open the course page (its booking form has the CSRF token), then book
        one of its sessions not yet booked by this learner."""
        choices = [pair for pair in BOOKABLE if pair[0] not in self.booked]
        if not choices:
            return
        session_id, slug = random.choice(choices)
        page = self.get(f"/courses/{slug}/", "course page")
        found = CSRF.search(page.text or "")
        if not found:
            page.failure(f"no booking form on /courses/{slug}/")
            return
        with self.client.post(
            f"/sessions/{session_id}/book/",
            data={"csrfmiddlewaretoken": found.group(1)},
            name="book (POST)",
            allow_redirects=False,
            catch_response=True,
        ) as resp:
            # Booked or waiting, the answer is a redirect to /bookings/.
            if resp.status_code != 302 or "/bookings/" not in resp.headers.get(
                "location", ""
            ):
                resp.failure(f"book: {resp.status_code} {resp.headers.get('location')}")
            else:
                self.booked.add(session_id)
