"""What an operator sees when something goes wrong: a request id on every log
line (and on the tasks a request queued), logs as JSON lines when
`LOG_FORMAT=json`, and errors sent to Sentry when `SENTRY_DSN` is set.

- **Request id.** `RequestIdMiddleware` (first in MIDDLEWARE) takes the
  proxy's `X-Request-ID` when it is a plain token (8-64 letters, digits,
  `.`, `_`, `-`), else makes one, keeps it in a context variable for the
  request and answers it in `X-Request-ID`. `RequestIdFilter` puts it on
  every log record as `request_id` ("-" outside a request). A task queued
  during the request carries it in a message header (`before_task_publish`)
  and the worker sets it while the task runs (`task_prerun`), so one id
  follows a booking from the page to its confirmation mail.
- **JSON logs.** python-json-logger: one object per line with time, level,
  logger, message, request id and, for errors, the traceback.
- **Sentry.** sentry-sdk with its Django and Celery integrations. Personal
  data stays here: `send_default_pii` is off, and `scrub_event` drops request
  bodies, cookies, query strings and headers other than a few harmless ones,
  and keeps only the user's id; stack frames carry no local variables (they
  hold requests, forms and people). Breadcrumbs carry no SQL parameters.
"""

import contextvars
import logging
import re
import uuid

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "request_id", default="-"
)
_ACCEPTED = re.compile(r"[A-Za-z0-9._-]{8,64}")
HEADER = "cpd_request_id"


def current_request_id() -> str:
    return _request_id.get()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _ACCEPTED.fullmatch(given) else uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        # After the session and user are loaded: an error report names the
        # person by id only (nothing is sent unless SENTRY_DSN is set).
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            import sentry_sdk

            sentry_sdk.get_isolation_scope().set_user({"id": str(user.pk)})
        return None


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True


# --- Celery: the id travels with the task -------------------------------------


def _publish(sender=None, headers=None, **kwargs):
    if headers is not None and _request_id.get() != "-":
        headers.setdefault(HEADER, _request_id.get())


_task_tokens: dict[str, contextvars.Token] = {}


def _prerun(task_id=None, task=None, **kwargs):
    given = getattr(task.request, HEADER, None) if task is not None else None
    if given and _ACCEPTED.fullmatch(str(given)):
        _task_tokens[task_id] = _request_id.set(str(given))


def _postrun(task_id=None, **kwargs):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        _request_id.reset(token)


def connect_celery_signals() -> None:
    from celery.signals import before_task_publish, task_postrun, task_prerun

    before_task_publish.connect(_publish, weak=False, dispatch_uid="cpd.request_id")
    task_prerun.connect(_prerun, weak=False, dispatch_uid="cpd.request_id")
    task_postrun.connect(_postrun, weak=False, dispatch_uid="cpd.request_id")


# --- logging ----------------------------------------------------------------


def logging_config(*, fmt: str, level: str) -> dict:
    """The LOGGING setting: plain lines (the default) or JSON lines."""
    plain = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
    formatters = {
        "plain": {"format": plain},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
            },
        },
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "config.observability.RequestIdFilter"}},
        "formatters": formatters,
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": fmt,
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
    }


# --- Sentry -------------------------------------------------------------------

_KEPT_HEADERS = {"user-agent", "x-request-id", "content-type", "content-length"}


def scrub_event(event: dict, hint: dict | None = None) -> dict:
    """No personal data leaves for the error tracker: no request body,
    cookies, query string or identifying headers; the user by id only."""
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("data", None)
        request.pop("cookies", None)
        request.pop("query_string", None)
        request.pop("env", None)
        headers = request.get("headers") or {}
        request["headers"] = {
            k: v for k, v in headers.items() if k.lower() in _KEPT_HEADERS
        }
        if "url" in request:
            request["url"] = str(request["url"]).split("?", 1)[0]
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if user.get("id") else {}
    event.setdefault("tags", {})["request_id"] = _request_id.get()
    return event


def scrub_breadcrumb(crumb: dict, hint: dict | None = None) -> dict:
    # SQL breadcrumbs keep the statement, never its parameters (emails, names).
    data = crumb.get("data")
    if isinstance(data, dict):
        data.pop("db.params", None)
        data.pop("params", None)
    return crumb


def init_sentry(dsn: str, *, environment: str, release: str = "") -> bool:
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        # A frame's local variables hold the request, forms and people.
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        traces_sample_rate=0.0,
    )
    return True
