"""Settings for SDIF Tracker: one file, every variable read from the environment.

Each variable is listed in `.env.example` and in the README's configuration table.
"""

import os
import re
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no), not {raw!r}")


def env_int(name: str, default: int, *, low: int | None = None, high: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise ImproperlyConfigured(f"{name} must be between {low} and {high}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set unless DEBUG is on.")
    SECRET_KEY = "django-insecure-development-only-key"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# A refused form gets the site's 403 page, saying nothing was saved (views/errors.py).
CSRF_FAILURE_VIEW = "sdif_tracker.views.errors.csrf_failure"

# The month a fiscal year starts in; US federal: October (FY19 = Oct 2018 - Sep 2019).
FISCAL_YEAR_START_MONTH = env_int("FISCAL_YEAR_START_MONTH", 10, low=1, high=12)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "simple_history",
    "axes",
    # django-csp: its system checks flag settings left in the pre-4.0 format.
    "csp",
    # The audit layer (history records, the change context, diffs) under the domain apps.
    "audit",
    "strategies",
    "milestones",
    # Site-level apps beside sdif_tracker (docs/architecture.md): sign-in, tokens and
    # security events; the read API, webhooks and their tasks.
    "accounts",
    "integrations",
    # Second factor (django-otp): authenticator apps and recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # OpenID Connect sign-in (mozilla-django-oidc), the read API (DRF + drf-spectacular).
    "mozilla_django_oidc",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI and Redoc served from static files, never a CDN (integrations/api/urls.py).
    "drf_spectacular_sidecar",
    # Background tasks: Django's tasks framework (django-tasks backport), database backend.
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Early: a query string or form that is not UTF-8 is refused before anything reads it.
    "sdif_tracker.request_encoding.StrictUTF8Middleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: request.user.is_verified() says whether a second factor was given.
    "django_otp.middleware.OTPMiddleware",
    # After OTPMiddleware: a password sign-in with a second factor reaches nothing else
    # until the code is given; administrators must have one (accounts/middleware.py).
    "accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # After CSP (so it sees the response first): in a single sign-on session, the pages'
    # form-action lets the sign-out form's redirect reach the provider (accounts/sso.py).
    "accounts.sso.SignOutFormActionMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After authentication: records who made each change (and from where) in history.
    "audit.history.HistoryContextMiddleware",
    # Last, as axes asks: turns a request it flagged as locked out into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sdif_tracker.urls"
WSGI_APPLICATION = "sdif_tracker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sdif_tracker.context_processors.nav",
            ],
        },
    },
]

# SQLite file by default (the embedded default); PostgreSQL with DATABASE_URL=postgres://...
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 60, low=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while one writer writes; IMMEDIATE takes the write lock at
    # the start of a transaction, so two writers queue instead of failing mid-way.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests use a file too (not shared-cache memory, whose table locks fail at once
    # instead of waiting), so concurrent-writer tests see the locking users get.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"sdif-test-{os.getpid()}.sqlite3")
    }

# PostgreSQL: the role the app connects as, which must not own the tables. When set,
# every `migrate` (run as the owner) re-grants it: history SELECT and INSERT only, the
# other tables read and write (strategies/database_roles.py; README, "PostgreSQL").
DATABASE_APP_ROLE = (env_str("DATABASE_APP_ROLE") or "").strip()

# Caching. The app keeps no state in a cache: sessions, login lockouts and the plan are
# in the database, flash messages in a cookie or the session (README, "More than one
# machine"). By default each process has Django's local-memory cache. CACHE_URL (or
# REDIS_URL), a redis:// or rediss:// URL, makes the cache one Redis that every instance
# shares, for whatever caches (Django, libraries); /healthz then reports whether it
# answers. Short socket timeouts: a stalled Redis must not stall page loads.
CACHE_URL = (env_str("CACHE_URL") or env_str("REDIS_URL") or "").strip()
if CACHE_URL:
    _scheme = CACHE_URL.split("://", 1)[0].lower() if "://" in CACHE_URL else ""
    if _scheme not in {"redis", "rediss", "unix"}:
        # The URL itself is not echoed: it may carry a password.
        raise ImproperlyConfigured(
            "CACHE_URL (or REDIS_URL) must be a redis://, rediss:// or unix:// URL; "
            + (f"got a {_scheme}:// URL." if _scheme else "got no scheme.")
        )
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "sdif",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_PREFIX": "sdif",
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Axes first: it refuses a locked-out client before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Single sign-on: acts only on the callback from the provider (accounts/sso_backend.py).
    "accounts.sso_backend.SSOBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portfolio"
LOGOUT_REDIRECT_URL = "login"


def login_username(request, credentials=None):
    """The username axes records for an attempt, cut to a real username's length.

    axes stores it in a 255-character column; a longer posted "username" would make
    PostgreSQL refuse the row and the login page fail (no account name is that long).
    """
    source = credentials if credentials else getattr(request, "POST", {})
    value = source.get("username")
    return value[:150] if isinstance(value, str) else value


# Failed-login throttling (django-axes). Locked out by username AND client address
# together: a client guessing one account's password is stopped, but failures from one
# address cannot lock the account's owner out everywhere else (a lock by username alone
# would let anyone deny anyone a login). Many failures for one username from many
# addresses raise an alert in the log instead (sdif_tracker/login_throttle.py).
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, low=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, low=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "sdif_tracker.login_throttle.AlertingDatabaseHandler"
LOGIN_USERNAME_ALERT_LIMIT = env_int("LOGIN_USERNAME_ALERT_LIMIT", 50, low=1)
# The client's address (sdif_tracker/client_address.py): the connection's own, or, behind
# TRUSTED_PROXIES proxies, the address the outermost of them saw.
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0, low=0, high=10)
AXES_CLIENT_IP_CALLABLE = "audit.client_address.client_address"
AXES_USERNAME_CALLABLE = login_username
AXES_RESET_ON_SUCCESS = True
# An attempt while locked out does not restart the cool-off: a lock ends at most
# LOGIN_COOLOFF_MINUTES after the failure that caused it (as the lockout page says), so
# nobody sharing the address can be kept out for good by someone who keeps trying.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_HTTP_RESPONSE_CODE = 429
# Axes' admin pages are read-only lists the admin tests do not cover yet; a lockout ends
# by itself after the cool-off, or at once with `manage.py axes_reset_username NAME`.
AXES_ENABLE_ADMIN = False
# Lockouts and failures are logged as warnings by axes; its per-request chatter is not.
AXES_VERBOSE = False

# Single sign-on with an OpenID provider (accounts/sso.py; docs/sso.md): nothing of it is
# active unless OIDC_ISSUER and OIDC_CLIENT_ID are set. The provider's endpoints come from
# its discovery document. OIDC_CLIENT_AUTH: client_secret_basic or client_secret_post
# (with OIDC_CLIENT_SECRET; Okta, Entra ID) or private_key_jwt (with the PEM file
# OIDC_PRIVATE_KEY_FILE; Login.gov).
OIDC_ISSUER = (env_str("OIDC_ISSUER") or "").strip().rstrip("/")
OIDC_CLIENT_ID = (env_str("OIDC_CLIENT_ID") or "").strip()
OIDC_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET") or ""
OIDC_CLIENT_AUTH = (env_str("OIDC_CLIENT_AUTH") or "client_secret_basic").strip().lower()
OIDC_PRIVATE_KEY_FILE = (env_str("OIDC_PRIVATE_KEY_FILE") or "").strip()
OIDC_PRIVATE_KEY_ID = (env_str("OIDC_PRIVATE_KEY_ID") or "").strip()
OIDC_PROVIDER_NAME = (env_str("OIDC_PROVIDER_NAME") or "").strip()
OIDC_SCOPES = (env_str("OIDC_SCOPES") or "openid email").strip()
OIDC_ACR_VALUES = (env_str("OIDC_ACR_VALUES") or "").strip()
OIDC_USE_PKCE = env_bool("OIDC_USE_PKCE", True)
# Providers that send no email_verified claim (Entra ID) but whose addresses the agency
# controls: their email may link a first sign-in to an existing account.
OIDC_EMAILS_VERIFIED = env_bool("OIDC_EMAILS_VERIFIED", False)
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT_SECONDS", 10, low=1, high=120)
# RP-initiated logout sends client_id and post_logout_redirect_uri, and the ID token as
# id_token_hint unless this is off (Login.gov documents only client_id).
OIDC_LOGOUT_ID_TOKEN_HINT = env_bool("OIDC_LOGOUT_ID_TOKEN_HINT", True)
_OIDC_CLIENT_AUTHS = {"client_secret_basic", "client_secret_post", "private_key_jwt"}
if OIDC_ISSUER and OIDC_CLIENT_ID:
    if OIDC_CLIENT_AUTH not in _OIDC_CLIENT_AUTHS:
        raise ImproperlyConfigured(
            f"OIDC_CLIENT_AUTH must be one of {', '.join(sorted(_OIDC_CLIENT_AUTHS))}, "
            f"not {OIDC_CLIENT_AUTH!r}"
        )
    if OIDC_CLIENT_AUTH == "private_key_jwt" and not OIDC_PRIVATE_KEY_FILE:
        raise ImproperlyConfigured("OIDC_CLIENT_AUTH=private_key_jwt needs OIDC_PRIVATE_KEY_FILE.")
    if OIDC_CLIENT_AUTH != "private_key_jwt" and not OIDC_CLIENT_SECRET:
        raise ImproperlyConfigured(
            f"OIDC_CLIENT_AUTH={OIDC_CLIENT_AUTH} needs OIDC_CLIENT_SECRET."
        )
# Off: the login page offers only single sign-on, and a posted password is refused
# (the Django admin's own login page too).
LOCAL_PASSWORD_LOGIN = env_bool("LOCAL_PASSWORD_LOGIN", True)
if not LOCAL_PASSWORD_LOGIN and not (OIDC_ISSUER and OIDC_CLIENT_ID):
    raise ImproperlyConfigured(
        "LOCAL_PASSWORD_LOGIN=0 needs single sign-on (OIDC_ISSUER and OIDC_CLIENT_ID): "
        "otherwise nobody could sign in."
    )

# Second factor (docs/mfa.md): administrators (site and agency) signed in with a password
# must use one; everyone else may. The issuer is the name authenticator apps show.
MFA_REQUIRED_FOR_ADMINS = env_bool("MFA_REQUIRED_FOR_ADMINS", True)
OTP_TOTP_ISSUER = env_str("MFA_ISSUER") or "SDIF Tracker"

# Idle timeout: the session expires SESSION_IDLE_MINUTES after the last request (every
# request saves it, sliding the window), and the cookie dies with the browser.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30, low=1) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_SAMESITE = "Lax"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic writes and WhiteNoise serves from; every instance needs the same files.
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files the app writes (a published quarter's PDF, sdif_tracker/plan_pdf.py): one
# directory every instance and worker shares (a volume they all mount); never served as is.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# The plan's PDF: US Letter, as federal documents are; A4 where the reader prints on it.
PDF_PAGE_SIZE = (env_str("PDF_PAGE_SIZE") or "letter").strip().lower()
if PDF_PAGE_SIZE not in {"letter", "a4"}:
    raise ImproperlyConfigured(f"PDF_PAGE_SIZE must be letter or a4, not {PDF_PAGE_SIZE!r}")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# History is append-only: the admin's "revert" button would rewrite the live row
# without a reason; reverts go through the app as new, recorded changes.
SIMPLE_HISTORY_REVERT_DISABLED = True
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# The named user every change made by a command or an import is recorded against.
SYSTEM_USERNAME = env_str("SYSTEM_USERNAME", "system")

# The largest action-plan YAML file an import reads; a larger one is refused unread.
PLAN_IMPORT_MAX_BYTES = env_int("PLAN_IMPORT_MAX_BYTES", 5 * 1024 * 1024, low=1)

# Email (update reminders): printed to the console unless a backend is configured.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, low=1, high=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "SDIF Tracker <sdif-tracker@localhost>")
# Where the app is reached, for links in emails (no trailing slash).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Load balancers probe each instance directly, over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, low=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    # check --deploy warns while preload is off (security.W021). Preloading is a decision
    # for whoever owns the registrable domain (it binds every subdomain, and undoing it
    # takes months), not for one app deployed under it; the owner turns it on here.
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content Security Policy (django-csp 4): only this site's own scripts, styles and images,
# nothing inline. htmx's inline indicator <style> is switched off in base.html (htmx-config)
# and its rules live in static/css/app.css; the Print button's handler is static/js/app.js.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # data: for the SVG icons Bootstrap's CSS embeds (form controls, selects).
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Background tasks (django-tasks): stored in the database and run by `manage.py db_worker`
# (`make run` starts one; README "Workers"). TASKS_BACKEND=immediate runs each task
# in the request that enqueued it, for a single-process set-up without a worker.
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
TASKS_BACKEND = (env_str("TASKS_BACKEND") or "database").strip().lower()
if TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"TASKS_BACKEND must be one of {', '.join(_TASK_BACKENDS)}, not {TASKS_BACKEND!r}"
    )
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASKS_BACKEND], "QUEUES": ["default"]}}

# Webhooks (integrations/; docs/webhooks.md): a request's timeout; how long a worker holds
# a delivery it is sending (longer than a request can take: a worker killed mid-request
# leaves a claim that lapses); the first retry's delay (doubling each time); attempts
# before a delivery is given up; deliveries given up in a row before the endpoint is
# disabled. http:// targets only where allowed (development); private, loopback and
# link-local targets only where allowed (tests).
WEBHOOKS_TIMEOUT_SECONDS = env_int("WEBHOOKS_TIMEOUT_SECONDS", 10, low=1, high=60)
WEBHOOKS_CLAIM_SECONDS = env_int("WEBHOOKS_CLAIM_SECONDS", 60, low=2, high=3600)
if WEBHOOKS_CLAIM_SECONDS <= WEBHOOKS_TIMEOUT_SECONDS:
    raise ImproperlyConfigured("WEBHOOKS_CLAIM_SECONDS must be more than WEBHOOKS_TIMEOUT_SECONDS")
WEBHOOKS_RETRY_BASE_SECONDS = env_int("WEBHOOKS_RETRY_BASE_SECONDS", 30, low=0, high=3600)
WEBHOOKS_MAX_ATTEMPTS = env_int("WEBHOOKS_MAX_ATTEMPTS", 8, low=1, high=20)
WEBHOOKS_DISABLE_AFTER_FAILURES = env_int("WEBHOOKS_DISABLE_AFTER_FAILURES", 5, low=1)
WEBHOOKS_ALLOW_HTTP = env_bool("WEBHOOKS_ALLOW_HTTP", DEBUG)
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", False)

# The read API (integrations/api, docs/api.md): Django REST framework, read-only, signed
# in with a personal access token (Bearer) or the browser's session; errors as RFC 9457
# problem+json; cursor-paged; each token (or session user) held to API_RATE_LIMIT.
API_RATE_LIMIT = (env_str("API_RATE_LIMIT") or "1000/hour").strip()
if not re.fullmatch(r"[1-9][0-9]*/(second|minute|hour|day)", API_RATE_LIMIT):
    raise ImproperlyConfigured(
        f"API_RATE_LIMIT must be a number of requests per second, minute, hour or day "
        f"(e.g. 1000/hour), not {API_RATE_LIMIT!r}"
    )
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First: its WWW-Authenticate header (Bearer) is what a 401 answers with.
        "integrations.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "DEFAULT_THROTTLE_CLASSES": ["integrations.api.throttling.TokenRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "integrations.api.pagination.IdCursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "integrations.api.errors.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SDIF Tracker API",
    "DESCRIPTION": "Read-only access to agency priority goals and their action plans.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # A status and a previous status share one set of values (the latter may be blank).
    "ENUM_NAME_OVERRIDES": {"MilestoneStatusEnum": "milestones.models.Status"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "integrations.api.schema.add_problem_responses",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
