"""Settings of the demo site: SQLite next to this file, the probe enabled, loopback only.

Environment overrides (all optional) exist so the demo command and the end-to-end tests
can run several copies side by side: DEMO_SITE_DB, SIGNAL_PROBE_ENDPOINT,
SIGNAL_PROBE_CONTROL_ENDPOINT, SIGNAL_PROBE_CURVE_*_KEY, SIGNAL_PROBE_ENABLED,
DJANGO_DEBUG, DEMO_SITE_FAST_HASHER.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


# A demo that only listens on loopback; never deploy this key.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-site-insecure-key-for-local-use-only")
DEBUG = _env_flag("DJANGO_DEBUG", True)
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # The one line a project needs to be monitored.
    "django_probe",
    "demo_site.accounts",
    "demo_site.articles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demo_site.urls"
WSGI_APPLICATION = "demo_site.wsgi.application"
ASGI_APPLICATION = "demo_site.asgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DEMO_SITE_DB") or BASE_DIR / "db.sqlite3",
        # Several gunicorn workers share one file; wait for the write lock instead of failing.
        "OPTIONS": {"timeout": 20},
    }
}

# The database session backend is deliberate: every login saves a Session row, so the
# monitor shows the session's pre_save/post_save inside the request.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The articles' on_commit() emails stay in memory (django.core.mail.outbox).
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

if _env_flag("DEMO_SITE_FAST_HASHER", False):
    # Tests and heavy traffic runs: PBKDF2 costs ~0.3 s per login on a small machine.
    PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "profile"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The probe: on by default for the demo. The endpoint is the monitor's (loopback default);
# the demo command and the tests point it elsewhere through the environment.
# STREAM_EMPTY: the demo shows every dispatch, including those nobody listens to (the
# session's pre_save/post_save at login), instead of only aggregated counts.
SIGNAL_PROBE = {"ENABLED": _env_flag("SIGNAL_PROBE_ENABLED", True), "STREAM_EMPTY": True}
if os.environ.get("SIGNAL_PROBE_ENDPOINT"):
    SIGNAL_PROBE["ENDPOINT"] = os.environ["SIGNAL_PROBE_ENDPOINT"]
# Live control's endpoint and CurveZMQ keys (the live-control tests set them).
for _key in ("CONTROL_ENDPOINT", "CURVE_SERVER_KEY", "CURVE_PUBLIC_KEY", "CURVE_SECRET_KEY"):
    if os.environ.get(f"SIGNAL_PROBE_{_key}"):
        SIGNAL_PROBE[_key] = os.environ[f"SIGNAL_PROBE_{_key}"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"demo_site": {"handlers": ["console"], "level": "INFO"}},
}
