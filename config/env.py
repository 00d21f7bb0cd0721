"""Reading the environment with clear errors.

`CheckedEnv` is django-environ's `Env`, except that a value it cannot use stops
start-up with one sentence naming the variable, what is wrong and an example of
a good value (taken from `.env.example`, which lists every variable), instead
of a traceback from deep inside a parser. `exit_on_config_error` turns that
sentence, and an unreachable database during a management command, into one
line on stderr and exit status 1 (manage.py, the WSGI app, Celery).
"""

import re
import sys
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

EXAMPLE_FILE = Path(__file__).resolve().parent.parent / ".env.example"
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}
DATABASE_SCHEMES = {"postgres", "postgresql", "pgsql", "sqlite"}


def example_for(var: str) -> str:
    """A good value for `var`, as `.env.example` gives it ("" if it does not)."""
    try:
        text = EXAMPLE_FILE.read_text(encoding="utf-8")
    except OSError:
        return ""
    found = re.search(rf"^#?\s*{re.escape(var)}=(.*)$", text, re.MULTILINE)
    return found[1].strip() if found else ""


def problem(var: str, value: str, what: str) -> ImproperlyConfigured:
    example = example_for(var)
    shown = value if len(value) <= 60 else value[:57] + "..."
    sentence = f"{var}={shown!r} is not valid: {what}"
    if example:
        sentence += f". For example: {var}={example}"
    return ImproperlyConfigured(sentence)


class CheckedEnv(environ.Env):
    def get_value(
        self, var, cast=None, default=environ.Env.NOTSET, parse_default=False
    ):
        try:
            return super().get_value(var, cast, default, parse_default)
        except ImproperlyConfigured:
            raise
        except (ValueError, TypeError, KeyError) as exc:
            raise problem(var, str(self.ENVIRON.get(var, "")), _reason(exc)) from None

    def bool(self, var, default=environ.Env.NOTSET):
        raw = self.ENVIRON.get(var)
        if raw is None:
            return super().bool(var, default=default)
        if raw.strip().lower() in TRUE:
            return True
        if raw.strip().lower() in FALSE:
            return False
        raise problem(var, raw, "use 1 or 0 (true or false)")

    def db(self, var="DATABASE_URL", default=environ.Env.NOTSET, engine=None):
        raw = self.ENVIRON.get(var)
        if raw is not None:
            scheme = urlsplit(raw).scheme
            if scheme not in DATABASE_SCHEMES:
                raise problem(
                    var,
                    _hide_password(raw),
                    "it must be a postgres:// or sqlite:/// URL",
                )
        try:
            return super().db(var, default=default, engine=engine)
        except (ValueError, TypeError, KeyError) as exc:
            raise problem(var, _hide_password(raw or ""), _reason(exc)) from None

    def int(self, var, default=environ.Env.NOTSET):
        raw = self.ENVIRON.get(var)
        if raw is not None and not re.fullmatch(r"\s*-?[0-9]+\s*", raw):
            raise problem(var, raw, "it must be a whole number")
        return super().int(var, default=default)

    def float(self, var, default=environ.Env.NOTSET):
        raw = self.ENVIRON.get(var)
        if raw is not None and not re.fullmatch(r"\s*-?[0-9]+(\.[0-9]+)?\s*", raw):
            raise problem(var, raw, "it must be a number")
        return super().float(var, default=default)

    def email_url(self, var="EMAIL_URL", default=environ.Env.NOTSET, backend=None):
        raw = self.ENVIRON.get(var, "")
        if raw and urlsplit(raw).scheme not in self.EMAIL_SCHEMES:
            raise problem(
                var,
                _hide_password(raw),
                "unknown mail scheme; use smtp://, smtp+tls://, consolemail:// "
                "or filemail://",
            )
        try:
            return super().email_url(var, default=default, backend=backend)
        except (ValueError, TypeError, KeyError) as exc:
            what = _reason(exc)
            if isinstance(exc, KeyError):
                what = "unknown mail scheme; use smtp://, smtp+tls://, consolemail://"
            raise problem(var, _hide_password(raw), what) from None

    def url(self, var, default=environ.Env.NOTSET):
        raw = self.ENVIRON.get(var)
        if raw is not None and raw and not urlsplit(raw).scheme:
            raise problem(var, _hide_password(raw), "it must be a URL with a scheme")
        return super().url(var, default=default)


def _reason(exc: Exception) -> str:
    text = str(exc).strip("'\"")
    return text or exc.__class__.__name__


def _hide_password(url: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def require_url(env: CheckedEnv, var: str, schemes: set[str]) -> str:
    """A URL variable whose scheme must be one of `schemes` ("" if unset)."""
    raw = env(var, default="")
    if raw and urlsplit(raw).scheme not in schemes:
        allowed = " or ".join(f"{s}://" for s in sorted(schemes))
        raise problem(var, _hide_password(raw), f"it must start with {allowed}")
    return raw


def require_secret(env: CheckedEnv, var: str, prefixes: tuple[str, ...]) -> str:
    """A secret that must start with one of `prefixes` ("" if unset). A wrong
    one is named, never shown."""
    raw = env(var, default="")
    if raw and not raw.startswith(prefixes):
        raise problem(var, "<hidden>", f"it must start with {' or '.join(prefixes)}")
    return raw


@contextmanager
def exit_on_config_error(*, database: bool = False):
    """One line and exit status 1 for a configuration error (and, with
    `database`, for a database that cannot be reached), never a traceback."""
    try:
        yield
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"Configuration error: {exc}\n")
        sys.exit(1)
    except Exception as exc:
        if not database or not _is_connection_error(exc):
            raise
        from django.conf import settings

        where = settings.DATABASES["default"]
        target = where.get("HOST") or where.get("NAME")
        if where.get("PORT"):
            target = f"{target}:{where['PORT']}"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        sys.stderr.write(
            f"Database error: cannot reach the database at {target} "
            f"(DATABASE_URL): {first}. Is it running, and is DATABASE_URL right?\n"
        )
        sys.exit(1)


def _is_connection_error(exc: Exception) -> bool:
    from django.db import OperationalError

    return isinstance(exc, OperationalError)
