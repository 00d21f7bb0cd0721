import threading
from decimal import Decimal

import pytest
from django.db import connection

from funding import services
from funding.models import FundingEvent, FundingRequest

from .factories import FundingRequestFactory, FundingRoundFactory


def _race(fn, args_list):
    barrier = threading.Barrier(len(args_list))
    results = []

    def run(*args):
        barrier.wait()
        try:
            fn(*args)
            results.append("ok")
        except services.FundingError as exc:
            results.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=a) for a in args_list]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return results


@pytest.mark.django_db(transaction=True)
def test_a_support_link_used_twice_at_once_counts_once(submit):
    funding_request, token = submit()

    def answer(supported):
        services.record_manager_support(token, supported=supported, statement="x")

    results = _race(answer, [(True,), (False,)])
    assert results.count("ok") == 1
    assert (
        FundingEvent.objects.filter(
            request=funding_request, from_status="awaiting_manager"
        ).count()
        == 1
    )


@pytest.mark.django_db(transaction=True)
def test_two_submissions_at_once_cannot_both_spend_the_allowance():
    funding_round = FundingRoundFactory.create(stream__annual_allowance=Decimal("333"))
    first = FundingRequestFactory.create(round=funding_round, cost=Decimal("300"))
    second = FundingRequestFactory.create(
        person=first.person, round=funding_round, cost=Decimal("300")
    )
    results = _race(
        lambda r: services.submit_funding_request(r, by=r.person),
        [(first,), (second,)],
    )
    assert results.count("ok") == 1
    assert FundingRequest.objects.filter(status="awaiting_manager").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_reminder_runs_at_once_remind_a_manager_once(submit):
    import datetime as dt

    from django.utils import timezone

    from funding.models import FundingMail, ManagerSupport

    submit()
    ManagerSupport.objects.update(created_at=timezone.now() - dt.timedelta(days=30))
    counts = []
    results = _race(lambda: counts.append(services.remind_managers()), [(), ()])
    assert results == ["ok", "ok"]
    assert sorted(counts) == [0, 1]
    assert FundingMail.objects.filter(kind="manager_reminder").count() == 1
    assert ManagerSupport.objects.filter(reminded_at__isnull=False).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_manager_answer_never_lands_after_a_withdrawal(submit):
    funding_request, token = submit()
    results = _race(
        lambda which: (
            services.withdraw_funding_request(
                funding_request, by=funding_request.person
            )
            if which == "withdraw"
            else services.record_manager_support(token, supported=True, statement="x")
        ),
        [("withdraw",), ("support",)],
    )
    funding_request.refresh_from_db()
    # Whichever came first, the request ends withdrawn: an answer after the
    # withdrawal is refused, an answer before it is followed by it.
    assert funding_request.status == "withdrawn"
    assert funding_request.events.order_by("created_at", "pk").last().to_status == (
        "withdrawn"
    )
    # The withdrawal always succeeds; the answer at most once, before it.
    assert results.count("ok") in (1, 2)
    answers = funding_request.events.filter(to_status="under_review").count()
    assert answers == results.count("ok") - 1


def _paused_answer(monkeypatch):
    """Make a manager's answer (in the thread named "manager") stop once it
    holds its first locks, until released. Returns (answering, release)."""
    from funding.services import requests

    answering, release = threading.Event(), threading.Event()
    real = requests.support_link_problem

    def paused(link):
        if threading.current_thread().name == "manager" and not answering.is_set():
            answering.set()
            release.wait(10)
        return real(link)

    monkeypatch.setattr(requests, "support_link_problem", paused)
    return answering, release


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("learner_does", ["change manager", "send again", "withdraw"])
def test_a_manager_answering_while_the_learner_acts_cannot_deadlock(
    submit, monkeypatch, learner_does
):
    """Every change to a request and its support links locks the request
    first: a manager's answer and the learner's change wait for each other
    rather than each holding what the other needs (which PostgreSQL ends by
    failing one of them: an error page)."""
    import datetime as dt
    import time

    from django.utils import timezone

    from funding.models import ManagerSupport

    funding_request, token = submit()
    # Past the cooldown on sending again.
    ManagerSupport.objects.update(created_at=timezone.now() - dt.timedelta(hours=1))
    answering, release = _paused_answer(monkeypatch)
    outcome = {}

    def manager():
        try:
            services.record_manager_support(token, supported=True, statement="Yes")
            outcome["manager"] = "ok"
        except Exception as exc:  # the test reports any failure
            outcome["manager"] = repr(exc)
        finally:
            connection.close()

    def learner():
        act = {
            "change manager": lambda r: services.change_manager(
                r,
                manager_name="New Manager",
                manager_email="new.manager@example.org",
                by=r.person,
            ),
            "send again": lambda r: services.resend_to_manager(r, by=r.person),
            "withdraw": lambda r: services.withdraw_funding_request(r, by=r.person),
        }[learner_does]
        try:
            act(funding_request)
            outcome["learner"] = "ok"
        except services.FundingError:
            outcome["learner"] = "refused"
        except Exception as exc:
            outcome["learner"] = repr(exc)
        finally:
            connection.close()

    answer = threading.Thread(target=manager, name="manager")
    answer.start()
    assert answering.wait(10)
    change = threading.Thread(target=learner)
    change.start()
    time.sleep(0.5)  # the learner's change is under way, waiting on a lock
    release.set()
    answer.join(20)
    change.join(20)
    assert outcome["manager"] == "ok", outcome
    # The answer came first; the learner's change then finds it answered.
    assert outcome["learner"] in ("ok", "refused"), outcome
