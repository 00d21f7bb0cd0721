"""Run calls at the same moment, each in its own thread and database
connection, for the race tests (transactional tests only)."""

import threading

from django.db import connection


def race(*calls) -> list[Exception]:
    """Start every call together (a barrier) and return the exceptions raised."""
    barrier = threading.Barrier(len(calls))
    errors: list[Exception] = []

    def run(call):
        barrier.wait()
        try:
            call()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
