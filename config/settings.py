"""Settings, read only from the environment (and an optional `.env`).

With no DATABASE_URL and no CELERY_BROKER_URL the app runs in its embedded
default: a SQLite file under `.local/`, Celery tasks executed in-process and
mail written to `.local/mail/`. With them set it uses PostgreSQL, Redis and
real workers. See README.md for every variable.
"""

from pathlib import Path

from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config import observability, sso
from config.env import CheckedEnv, problem, require_secret, require_url
from payments.gateway import card_checkout_origins

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_DIR = BASE_DIR / ".local"

# A value that cannot be used stops start-up with one sentence naming it.
env = CheckedEnv()
if (BASE_DIR / ".env").exists():
    env.read_env(str(BASE_DIR / ".env"))

EMBEDDED = not env("DATABASE_URL", default="") and not env(
    "CELERY_BROKER_URL", default=""
)
if EMBEDDED:
    LOCAL_DIR.mkdir(exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)
SITE_URL = (
    require_url(env, "SITE_URL", {"http", "https"}) or "http://127.0.0.1:8000"
).rstrip("/")
SITE_NAME = env("SITE_NAME", default="CPD Booking")
# Who organisation invoices are from: name and address, comma-separated lines.
INVOICE_ISSUER = env("INVOICE_ISSUER", default=SITE_NAME)
# The payment terms printed on organisation invoices.
INVOICE_PAYMENT_DAYS = env.int("INVOICE_PAYMENT_DAYS", default=30)
# Where payers send bank transfers; the "Pay by bank transfer" box is shown
# only when all three are set.
BANK_ACCOUNT_NAME = env("BANK_ACCOUNT_NAME", default="")
BANK_SORT_CODE = env("BANK_SORT_CODE", default="")
BANK_ACCOUNT_NUMBER = env("BANK_ACCOUNT_NUMBER", default="")
# Card payments through Stripe Checkout: offered only when the secret key and
# the webhook's signing secret are both set. Never logged or shown.
STRIPE_SECRET_KEY = require_secret(env, "STRIPE_SECRET_KEY", ("sk_", "rk_"))
STRIPE_WEBHOOK_SECRET = require_secret(env, "STRIPE_WEBHOOK_SECRET", ("whsec_",))
# Stripe's API address; set only to point at a Stripe-compatible test server.
STRIPE_API_BASE = require_url(env, "STRIPE_API_BASE", {"http", "https"}).rstrip("/")

SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if not (EMBEDDED or DEBUG):
        raise ImproperlyConfigured(
            "SECRET_KEY is not set: it has no default outside the embedded mode. "
            "For example: SECRET_KEY=<50 or more random characters, kept secret>"
        )
    # The embedded mode keeps a random key on disk so that sessions survive restarts.
    key_file = LOCAL_DIR / "secret_key"
    LOCAL_DIR.mkdir(exist_ok=True)
    if not key_file.exists():
        from django.core.management.utils import get_random_secret_key

        key_file.write_text(get_random_secret_key())
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django.forms",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "import_export",
    "accounts",
    "courses",
    "payments",
    "bookings",
    "funding",
    "consent",
    "privacy",
    "surveys",
    "marketing",
    "organisations",
    "products",
    "analytics",
    "reports",
]

MIDDLEWARE = [
    # A request id on every log line and in the X-Request-ID header.
    "config.observability.RequestIdMiddleware",
    # Performance counts of every request (time, queries, status, per route
    # pattern), and page views of visitors who accepted analytics cookies:
    # outside everything it times, and outside ConsentMiddleware, whose
    # decision it reads after the response (analytics/middleware.py).
    "analytics.middleware.AnalyticsMiddleware",
    # Database outages answer 503 with Retry-After (see config/middleware.py).
    "config.middleware.DatabaseOutageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy on every response (see
    # "Security headers" below); before anything that can answer early.
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # Here, not further down, so that a response made early (the 400 page of
    # RefuseUnreadableInputMiddleware) is refused framing too.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Bodies over MAX_REQUEST_BYTES are a 413 page before they are read, and
    # before the session or anything else is touched (config/middleware.py).
    "config.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Before any view: NUL and control characters, and huge query strings, are a
    # clear 400 page (config/middleware.py).
    "config.middleware.RefuseUnreadableInputMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Back-office sessions end when idle or old (accounts/middleware.py); before
    # the two-factor check, so an ended session is sent to sign in, not to MFA.
    "accounts.middleware.StaffSessionTimeoutMiddleware",
    "accounts.middleware.StaffMFAMiddleware",
    "consent.middleware.ConsentMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.site",
                "config.context_processors.failed_mail",
                # The staff navigation and breadcrumbs on /staff/ pages.
                "config.context_processors.staff",
                "consent.context_processors.cookies",
                # Whether base.html loads the analytics beacon script.
                "analytics.context_processors.beacon",
                # CSP_NONCE: this response's nonce, for each inline <script>.
                "csp.context_processors.nonce",
            ],
        },
    },
]
FORM_RENDERER = "config.forms.GovukFormRenderer"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{LOCAL_DIR / 'db.sqlite3'}")
}
# With a DATABASE_URL each process keeps its connection for CONN_MAX_AGE
# seconds instead of opening one per request (a new PostgreSQL connection costs
# a fork and authentication, a few milliseconds), and checks it before reusing
# it after an idle spell, so a restarted server or a dropped connection costs
# one reconnect, not a failed request. The embedded SQLite file needs neither.
_HAS_DATABASE_URL = bool(env("DATABASE_URL", default=""))
DATABASES["default"]["CONN_MAX_AGE"] = env.int(
    "CONN_MAX_AGE", default=60 if _HAS_DATABASE_URL else 0
)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool(
    "CONN_HEALTH_CHECKS", default=_HAS_DATABASE_URL
)
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
# The embedded SQLite default builds indexes without their INCLUDE columns
# (courses' course_published_next); Django warns about it on every command.
SILENCED_SYSTEM_CHECKS = [] if IS_POSTGRES else ["models.W040"]
# DATABASE_POOLER=transaction: DATABASE_URL points at PgBouncer (or another
# pooler) in transaction mode, where consecutive transactions of one
# connection may run on different server connections. Nothing may then
# outlive a transaction on the server: no server-side cursors (Django's
# `.iterator()` then fetches in chunks from a client-side cursor) and no
# prepared statements (psycopg's automatic preparing is switched off). The
# code takes no session-level advisory locks and sets no session state (row
# locks with select_for_update and SET TRANSACTION are per transaction), so
# nothing else changes. Migrations are run against PostgreSQL directly
# (README, "Deployment"): AddIndexConcurrently needs a session of its own.
DATABASE_POOLER = env("DATABASE_POOLER", default="")
if DATABASE_POOLER not in ("", "session", "transaction"):
    raise problem(
        "DATABASE_POOLER", DATABASE_POOLER, "use transaction, session or leave unset"
    )
if DATABASE_POOLER == "transaction" and IS_POSTGRES:
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# While the database is unreachable pages answer 503 with this Retry-After.
DATABASE_OUTAGE_RETRY_AFTER_SECONDS = env.int(
    "DATABASE_OUTAGE_RETRY_AFTER_SECONDS", default=30
)

# Request and upload size. A request whose declared length is over
# MAX_REQUEST_BYTES is refused with 413 before its body is read
# (config.middleware.RequestSizeLimitMiddleware); no single file may be over
# MAX_UPLOAD_BYTES (config.uploads; a field may allow less). The proxy in front
# must refuse larger bodies too, and slow ones (README, "Request size").
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
MAX_REQUEST_BYTES = env.int("MAX_REQUEST_BYTES", default=12 * 1024 * 1024)
if MAX_REQUEST_BYTES <= MAX_UPLOAD_BYTES:
    raise ImproperlyConfigured(
        "MAX_REQUEST_BYTES must be larger than MAX_UPLOAD_BYTES, or a file at the "
        "upload limit could never be sent with its form."
    )
# Django's own limits on what it parses. Form fields other than files: our
# longest text (a campaign's 20,000 characters) is under 250 KB URL-encoded.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# The admin's biggest forms (a group's permissions, a changelist action on
# every row of a page) send a few hundred fields.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
# Every form takes one file.
DATA_UPLOAD_MAX_NUMBER_FILES = 10
# Files up to this size are held in memory while a request is parsed; larger
# ones are written to a temporary file (FILE_UPLOAD_TEMP_DIR, the system's).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2621440

REDIS_URL = require_url(env, "REDIS_URL", {"redis", "rediss", "unix"})
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.ReusingRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": 2,
                "socket_timeout": 2,
                # After a failure the cache is not tried for this long
                # (config/cache.py: an outage degrades to the database).
                "RETRY_AFTER": env.float("CACHE_RETRY_AFTER_SECONDS", default=5),
            },
        }
    }
    # Sessions are read from Redis and written to both (the database stays the
    # record): a signed-in page costs no session query. While Redis is down
    # the cache answers "not there" (config/cache.py) and sessions come from
    # the database, so nobody is signed out by an outage. The cached copy
    # lasts SESSION_CACHE_SECONDS, so one missed deletion during an outage
    # (a sign-out) cannot bring a session back for long (config/sessions.py).
    SESSION_ENGINE = "config.sessions"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: with no broker the tasks run in-process (the embedded default).
CELERY_BROKER_URL = require_url(
    env, "CELERY_BROKER_URL", {"redis", "rediss", "amqp", "amqps", "memory"}
)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Europe/London"
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# acks_late: a task is acknowledged when it has run, so one held by a worker that
# dies (SIGKILL, lost host) is given to another worker after visibility_timeout
# seconds. Redis's default is an hour; a campaign batch or mail task takes
# seconds. It must stay longer than any task's run time and countdown (the
# outbox retries are capped below it: config/outbox.py retry_countdown), or a
# task would be handed out twice (harmless, all tasks are idempotent, but wasteful).
CELERY_VISIBILITY_TIMEOUT_SECONDS = env.int(
    "CELERY_VISIBILITY_TIMEOUT_SECONDS", default=600
)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT_SECONDS,
    # Each worker looks for such tasks every 10 s (kombu's default throttle
    # would make it every 100 s): one small Redis query.
    "unacked_restore_throttle": 1,
}
CELERY_TASK_PUBLISH_RETRY = False  # a down broker must not hold up a request
CELERY_BEAT_SCHEDULE = {
    # Proof that beat and a worker are running, read by /readyz.
    "heartbeat": {"task": "config.heartbeat", "schedule": 60.0},
    # Outbox sweep: mail queued while the broker was down, or failed sends.
    "send-pending-mail": {"task": "bookings.tasks.send_pending_mail", "schedule": 60.0},
    # Reminders for sessions BOOKING_REMINDER_DAYS ahead; the key stops repeats.
    "send-reminders": {"task": "bookings.tasks.send_reminders", "schedule": 3600.0},
    # Offered waiting-list places that were not accepted in time pass on; held
    # approvals expire; lapsed ring-fenced places return to general sale.
    "expire-offers": {"task": "bookings.tasks.expire_offers", "schedule": 300.0},
    # Unpaid places on courses that release them go back on sale; card
    # refunds Stripe had not confirmed are asked about again.
    "release-unpaid-places": {
        "task": "bookings.tasks.release_unpaid_places",
        "schedule": 3600.0,
    },
    "check-card-refunds": {
        "task": "payments.tasks.check_card_refunds",
        "schedule": 600.0,
    },
    # Alert booking administrators about sessions below their minimum numbers.
    "check-minimum-numbers": {
        "task": "bookings.tasks.check_minimum_numbers",
        "schedule": 3600.0,
    },
}
BOOKING_REMINDER_DAYS = env.int("BOOKING_REMINDER_DAYS", default=2)
# /readyz is not ready when no heartbeat has run for this many minutes.
READY_HEARTBEAT_MINUTES = env.int("READY_HEARTBEAT_MINUTES", default=5)
# Booking, funding and campaign mail that fails is retried with back-off (1, 2,
# 4... minutes, then hourly) for this many hours after it was queued, whatever
# Celery's own retries did; then it is kept, logged as an error and shown to
# staff as not sent (with "Send again" in admin).
OUTBOX_RETRY_HORIZON_HOURS = env.int("OUTBOX_RETRY_HORIZON_HOURS", default=72)
CELERY_BEAT_SCHEDULE["send-pending-funding-mail"] = {
    # Funding mail that no task sent (the broker was down, say) goes out here.
    "task": "funding.tasks.send_pending_funding_mail",
    "schedule": 60.0,
}
CELERY_BEAT_SCHEDULE["remind-funding-managers"] = {
    # Managers who have not answered a funding request after
    # FUNDING_MANAGER_REMINDER_DAYS get one reminder (reminded_at stops repeats).
    "task": "funding.tasks.remind_managers",
    "schedule": 3600.0,
}
# Days after a manager is asked to support a funding request without answering
# that they are reminded, once.
FUNDING_MANAGER_REMINDER_DAYS = env.int("FUNDING_MANAGER_REMINDER_DAYS", default=5)
CELERY_BEAT_SCHEDULE["apply-retention"] = {
    # Delete what has passed its retention period; records counts only.
    "task": "privacy.tasks.apply_retention",
    "schedule": 24 * 3600.0,
}

# First-party analytics (analytics/): page views buffered in Redis are written
# by this task; performance counts are written by each web process every
# ANALYTICS_METRICS_FLUSH_SECONDS (a crash loses at most that much of them);
# the beacon accepts at most ANALYTICS_BEACON_PER_MINUTE reports per visit.
CELERY_BEAT_SCHEDULE["flush-analytics-page-views"] = {
    # Page views buffered in Redis go into the database.
    "task": "analytics.tasks.flush_page_views",
    "schedule": 60.0,
}
ANALYTICS_METRICS_FLUSH_SECONDS = env.int("ANALYTICS_METRICS_FLUSH_SECONDS", default=30)
ANALYTICS_BEACON_PER_MINUTE = env.int("ANALYTICS_BEACON_PER_MINUTE", default=30)

# Imports from CSV (people, bookings, prior training): all rows or none, and only
# for staff who may add what they import.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_SKIP_ADMIN_ACTION_EXPORT_UI = True

# Retention periods per category (the privacy notice states them).
PRIVACY_RETENTION = {
    "unverified_accounts_days": env.int(
        "RETENTION_UNVERIFIED_ACCOUNTS_DAYS", default=30
    ),
    "mail_records_days": env.int("RETENTION_MAIL_RECORDS_DAYS", default=400),
    "analytics_events_months": env.int("RETENTION_ANALYTICS_MONTHS", default=26),
    "funding_documents_years": env.int("RETENTION_FUNDING_DOCUMENTS_YEARS", default=6),
    # Bank statement lines: what the payer's bank sent (their name) is cleared
    # after this many years (accounting records); date and amount stay.
    "bank_lines_years": env.int("RETENTION_BANK_LINES_YEARS", default=6),
    # A closed account can be reopened for this long; then it is erased.
    "closed_accounts_years": env.int("RETENTION_CLOSED_ACCOUNTS_YEARS", default=6),
    # A corrected field's old (and new) value is kept in the audit trail this
    # long, as evidence of what changed; then both are cleared.
    "corrected_values_months": env.int("RETENTION_CORRECTED_VALUES_MONTHS", default=12),
    # Survey answers (privacy notice 1.7 says 24 months).
    "survey_answers_months": env.int("RETENTION_SURVEY_ANSWERS_MONTHS", default=24),
}
# Bookings made within this many days after a person opened a campaign email or
# followed one of its links count as that campaign's bookings.
CAMPAIGN_ATTRIBUTION_DAYS = env.int("CAMPAIGN_ATTRIBUTION_DAYS", default=14)
# Days between telling a person that staff will close their account (with the
# reason) and the closure taking effect.
ACCOUNT_CLOSURE_NOTICE_DAYS = env.int("ACCOUNT_CLOSURE_NOTICE_DAYS", default=14)
CELERY_BEAT_SCHEDULE["close-due-accounts"] = {
    # Closures staff scheduled take effect once their notice period has run.
    "task": "accounts.tasks.close_due_accounts",
    "schedule": 3600.0,
}
# Exports with more rows than this are prepared by a task and a link is emailed.
PRIVACY_EXPORT_INLINE_MAX_ROWS = env.int("PRIVACY_EXPORT_INLINE_MAX_ROWS", default=2000)
PRIVACY_EXPORT_LINK_HOURS = env.int("PRIVACY_EXPORT_LINK_HOURS", default=72)
# Every erasure appends a line (the account's id and when) to this file, kept
# outside the database and outside PRIVATE_MEDIA_ROOT so that it outlives a
# backup: `manage.py restore` erases again everyone it names (privacy.erasure_log).
ERASURE_LOG_PATH = str(
    env.path("ERASURE_LOG_PATH", default=LOCAL_DIR / "erasure-log.jsonl")
)
# Data sent straight to another organisation: its link works once, for this
# many hours after the mail is sent.
TRANSMISSION_LINK_HOURS = env.int("TRANSMISSION_LINK_HOURS", default=72)
CELERY_BEAT_SCHEDULE["send-pending-transmission-mail"] = {
    # Transmission links that no task sent (the broker was down, say).
    "task": "privacy.tasks.send_pending_transmission_mail",
    "schedule": 60.0,
}
# How long a claimed form token stops a resubmission (config.idempotency).
IDEMPOTENCY_TOKEN_HOURS = env.int("IDEMPOTENCY_TOKEN_HOURS", default=24)
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"

EMAIL_URL = env("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(LOCAL_DIR / "mail")
DEFAULT_FROM_EMAIL = env(
    "DEFAULT_FROM_EMAIL", default="CPD Booking <no-reply@cpd.invalid>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The contact page's details for a team that staff have not entered in admin
# (Consent > Contact points).
CONTACT_EMAIL = env("CONTACT_EMAIL", default="cpd-team@cpd.invalid")
CONTACT_PHONE = env("CONTACT_PHONE", default="")
CONTACT_ADDRESS = env("CONTACT_ADDRESS", default="")

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
# Learners' sessions last Django's two weeks from their last change (a browser
# session only, when "Remember me" is not ticked). A session that can reach the
# back office (staff, superuser, any group or permission) also ends after this
# long without a request, and this long after sign-in whatever the activity
# (accounts.middleware.StaffSessionTimeoutMiddleware).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=14 * 24 * 3600)
# With REDIS_URL, the longest a session stays in the cache between reads from
# the database (config/sessions.py).
SESSION_CACHE_SECONDS = env.int("SESSION_CACHE_SECONDS", default=300)
STAFF_SESSION_IDLE_MINUTES = env.int("STAFF_SESSION_IDLE_MINUTES", default=30)
STAFF_SESSION_MAX_HOURS = env.int("STAFF_SESSION_MAX_HOURS", default=8)
if not 0 < STAFF_SESSION_IDLE_MINUTES <= STAFF_SESSION_MAX_HOURS * 60:
    raise ImproperlyConfigured(
        "STAFF_SESSION_IDLE_MINUTES must be at least 1 and no longer than "
        "STAFF_SESSION_MAX_HOURS."
    )
if STAFF_SESSION_MAX_HOURS * 3600 >= SESSION_COOKIE_AGE:
    raise ImproperlyConfigured(
        "STAFF_SESSION_MAX_HOURS must be shorter than SESSION_COOKIE_AGE: staff "
        "sessions end sooner than learners'."
    )
LOGIN_REDIRECT_URL = "/"

# django-allauth: email is the login and must be verified before use.
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = False
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https://") else "http"
# Failed sign-ins are limited per account (five wrong passwords lock that
# account for five minutes) and, far more loosely, per client address: a school
# or NHS network puts hundreds of people behind one address, so one person's
# mistakes must not lock out the rest of the building.
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=5)
LOGIN_FAILURES_PER_IP = env.int("LOGIN_FAILURES_PER_IP", default=100)
# The client address is REMOTE_ADDR unless the app is behind reverse proxies
# that append to X-Forwarded-For: set TRUSTED_PROXY_COUNT to how many there
# are (1 for one nginx). With 0, X-Forwarded-For is ignored, so a client cannot
# dodge the per-address limit by sending the header itself.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ACCOUNT_RATE_LIMITS = {
    "login_failed": (
        f"{LOGIN_FAILURES_PER_IP}/5m/ip,{LOGIN_FAILURES_PER_ACCOUNT}/5m/key"
    ),
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
# allauth's forms with GOV.UK labels, hints and error messages.
ACCOUNT_FORMS = {
    name: f"accounts.allauth_forms.{cls}"
    for name, cls in {
        "login": "LoginForm",
        "signup": "SignupForm",
        "reset_password": "ResetPasswordForm",
        "reset_password_from_key": "ResetPasswordKeyForm",
        "change_password": "ChangePasswordForm",
        "set_password": "SetPasswordForm",
        "add_email": "AddEmailForm",
        "reauthenticate": "ReauthenticateForm",
    }.items()
}
MFA_FORMS = {
    "authenticate": "accounts.allauth_forms.MfaAuthenticateForm",
    "reauthenticate": "accounts.allauth_forms.MfaReauthenticateForm",
    "activate_totp": "accounts.allauth_forms.ActivateTOTPForm",
}
SOCIALACCOUNT_FORMS = {"signup": "accounts.allauth_forms.SocialSignupForm"}
# Single sign-on with work accounts (OpenID Connect: Microsoft Entra ID for
# NHSmail and most schools). OIDC_PROVIDERS (config/sso.py, README) lists
# them; unset, there is no "Sign in with" button and nothing else changes.
OIDC_PROVIDERS = sso.parse_providers(env("OIDC_PROVIDERS", default=""))
SOCIALACCOUNT_PROVIDERS = sso.socialaccount_providers(OIDC_PROVIDERS)
SOCIALACCOUNT_ADAPTER = "accounts.adapter.SocialAccountAdapter"
# An SSO sign-in whose address matches an account signs in to that account,
# and links the two, only when the provider says the address is verified and
# the account's own address is verified too (SocialAccountAdapter); any other
# match goes the way of a sign-up with a used address: nothing is linked.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
# A new person signing in with SSO fills in the sign-up form (name, the
# privacy notice, marketing choices unticked) like everyone else, its name and
# address filled in from the provider.
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_VERIFICATION = ACCOUNT_EMAIL_VERIFICATION
SOCIALACCOUNT_EMAIL_REQUIRED = True
# The provider's tokens are used once, at sign-in, and never kept.
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = 10
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# How long a sign-in (with a password or an authenticator code) or a
# reauthentication counts as recent: within it, turning two-factor on or off
# and seeing recovery codes do not ask for the password again
# (accounts.adapter.AccountAdapter.is_reauthentication_required).
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
MFA_TOTP_ISSUER = SITE_NAME

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": str(
                env.path("PRIVATE_MEDIA_ROOT", default=LOCAL_DIR / "private")
            )
        },
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Uploaded files (evidence, invoices) are private: there is no MEDIA_URL route;
# views that check the owner stream them.
MEDIA_ROOT = STORAGES["default"]["OPTIONS"]["location"]
# A log inside the media folder would be restored, old, along with the files.
if Path(ERASURE_LOG_PATH).resolve().is_relative_to(Path(MEDIA_ROOT).resolve()):
    raise problem(
        "ERASURE_LOG_PATH",
        ERASURE_LOG_PATH,
        "it must be outside PRIVATE_MEDIA_ROOT, which backups copy and restore",
    )
WHITENOISE_USE_FINDERS = DEBUG

# Security. Behind HTTPS (SITE_URL starts with https://) every cookie is secure
# and HSTS is on; `manage.py check --deploy` is clean with those settings.
HTTPS = env.bool("HTTPS", default=SITE_URL.startswith("https://"))
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Security headers. The Content-Security-Policy is enforced, not report-only: a
# script runs only from our own static files or from an inline <script> that
# carries this response's nonce (`<script nonce="{{ CSP_NONCE }}">`, new for
# every request; django-csp adds it to the header only when a template used it;
# a page cached whole puts it in on the way out, as courses.views does). No inline style attributes or <style> blocks, no event handler
# attributes, no javascript: links, no plugins, no framing by anyone (with
# X_FRAME_OPTIONS for old browsers). tests/security/test_csp.py checks every
# page type and the browser tests fail on any violation.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        # data: for the two-factor set-up QR code (allauth's SVG data URI).
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        # Each SSO provider's origin: the sign-in button's POST is redirected
        # there, and browsers check redirects after a form against form-action.
        # And Stripe Checkout's, where "Pay by card" is redirected.
        "form-action": [
            SELF,
            *sso.form_action_origins(OIDC_PROVIDERS),
            *card_checkout_origins(STRIPE_SECRET_KEY, STRIPE_API_BASE),
        ],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}
# Browser features the service never uses are switched off for it and for
# anything it could ever embed (django-permissions-policy). Only features that
# Chromium recognises: it warns in the console about any other.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "interest-cohort",
        "local-fonts",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Log lines carry the request id (also on the tasks a request queued); with
# LOG_FORMAT=json each line is one JSON object (config/observability.py).
LOG_FORMAT = env("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise problem("LOG_FORMAT", LOG_FORMAT, "use plain or json")
LOGGING = observability.logging_config(
    fmt=LOG_FORMAT, level=env("LOG_LEVEL", default="INFO")
)
# Errors (web and worker) go to Sentry when set, with personal data scrubbed:
# no request bodies, cookies or query strings; the user by id only.
SENTRY_DSN = require_url(env, "SENTRY_DSN", {"http", "https"})
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", default="production")
observability.init_sentry(SENTRY_DSN, environment=SENTRY_ENVIRONMENT)

# Marketing (marketing/): sending speed per worker process, batch size, and the
# SMS backend (a log backend by default; marketing.sms.HttpSmsBackend posts to a
# provider at SMS_HTTP_URL with SMS_HTTP_TOKEN as a bearer token).
MARKETING_SEND_RATE_PER_SECOND = env.float("MARKETING_SEND_RATE_PER_SECOND", default=20)
MARKETING_BATCH_SIZE = env.int("MARKETING_BATCH_SIZE", default=500)
SMS_BACKEND = env("SMS_BACKEND", default="marketing.sms.ConsoleSmsBackend")
SMS_HTTP_URL = env("SMS_HTTP_URL", default="")
SMS_HTTP_TOKEN = env("SMS_HTTP_TOKEN", default="")
SMS_HTTP_TIMEOUT = env.float("SMS_HTTP_TIMEOUT", default=10)
CELERY_BEAT_SCHEDULE["start-due-campaigns"] = {
    # Scheduled campaigns whose send time has come start sending.
    "task": "marketing.tasks.start_due_campaigns",
    "schedule": 60.0,
}
# A campaign delivery still "sending" after this long belonged to a worker that
# died; it is marked interrupted (never resent) and the campaign can finish.
MARKETING_STALE_SENDING_SECONDS = env.int(
    "MARKETING_STALE_SENDING_SECONDS", default=600
)
CELERY_BEAT_SCHEDULE["repair-stale-deliveries"] = {
    # Deliveries left "sending" by a dead worker: marked interrupted, campaign finished.
    "task": "marketing.tasks.repair_stale_deliveries",
    "schedule": 300.0,
}
CELERY_BEAT_SCHEDULE["retry-campaign-deliveries"] = {
    # Campaign messages whose send failed, once their back-off has passed (until
    # OUTBOX_RETRY_HORIZON_HOURS), each checked for consent again.
    "task": "marketing.tasks.retry_deliveries",
    "schedule": 60.0,
}

# Reports (reports/) and survey results: any count below this is shown as
# "<N>" in reports shared outside (hidden in survey results), with secondary
# suppression so it cannot be worked out from totals.
REPORT_SUPPRESSION_THRESHOLD = env.int("REPORT_SUPPRESSION_THRESHOLD", default=5)
# A session is "at risk" when it starts within this many days and fewer than
# this percentage of its places are taken.
REPORT_AT_RISK_DAYS = env.int("REPORT_AT_RISK_DAYS", default=14)
REPORT_AT_RISK_FILL_PERCENT = env.int("REPORT_AT_RISK_FILL_PERCENT", default=50)
