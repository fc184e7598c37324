"""Settings shared by every environment. Everything deployment-specific comes from the
environment; see README.md for the variables."""

import datetime
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "associations",
    "households",
    "members",
    "activities",
    "benefits",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Must follow authentication: it reads request.user to enter the user's scope.
    "associations.middleware.ScopeMiddleware",
    # masking (issue 12): full ID numbers and phones are refused in query strings
    "households.middleware.FullNumberInUrlMiddleware",
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
                "associations.context_processors.navigation",
            ],
        },
    },
]


def database_from_env() -> dict:
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise ImproperlyConfigured(
            "DATABASE_URL is not set. Use `make run` / `make test`, which start an embedded "
            "PostgreSQL, or point DATABASE_URL at a PostgreSQL server."
        )
    config = dj_database_url.parse(url, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")))
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("PostgreSQL is the only supported database.")
    config["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME", "test_jishengxie")}
    return config


DATABASES = {"default": database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "associations.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "associations.password_validation.ChineseMinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Account security (issue 12): the demo password, sequences, pinyin+digits, dates, names
    {"NAME": "associations.password_validation.ChinesePatternValidator"},
    {"NAME": "associations.password_validation.PersonalInfoValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Uploads and workbooks hold full ID numbers: readable by the app's own account only
# (associations/files.py for files written outside the storage API).
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
CSRF_COOKIE_HTTPONLY = False

# --- Celery --------------------------------------------------------------------------------
# With REDIS_URL the broker and result backend are Redis; without it the worker still runs
# for real, over kombu's filesystem transport under var/ (no server needed).
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_DIR = VAR_DIR / "celery-broker"
# Background jobs (associations/jobs.py): the longest a step may run, how often a running
# step proves it is alive, and when silence means its worker died.
JOB_SOFT_TIME_LIMIT = int(os.environ.get("JOB_SOFT_TIME_LIMIT", 3 * 3600))
JOB_TIME_LIMIT = JOB_SOFT_TIME_LIMIT + 60
JOB_HEARTBEAT_SECONDS = 10
JOB_PUBLISH_SECONDS = 1.0  # a request gives the broker this long before saying it is down
JOB_STALE_SECONDS = 180
JOB_MAX_ATTEMPTS = 2  # runs of one step: the first, and one re-queue after an interruption
if REDIS_URL:
    # The API throttles' counts must agree across the web processes: a cache they share.
    CACHES = {
        "default": {
            "BACKEND": "config.cache.SharedCache",  # an unreachable Redis costs no answer
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "jsx",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A message not acknowledged this long is delivered again: longer than the longest
        # job may run (JOB_TIME_LIMIT), so a live job is never run twice. A job whose worker
        # died is not left waiting for it: its stale heartbeat re-queues it within minutes.
        "visibility_timeout": JOB_TIME_LIMIT + 300,
        # The web app asks the broker while a user waits: fail fast when Redis is down.
        "socket_connect_timeout": 1,
        "socket_timeout": 5,
    }
    CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 1
    CELERY_REDIS_SOCKET_TIMEOUT = 5
else:
    # The host part means nothing to this transport; naming one keeps kombu from warning
    # "No hostname was supplied" on every connection.
    CELERY_BROKER_URL = "filesystem://localhost/"
    CELERY_RESULT_BACKEND = f"file://{CELERY_BROKER_DIR / 'results'}"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 1

# --- API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an unauthenticated call then gets 401 with WWW-Authenticate.
        "associations.accounts.authentication.ProjectTokenAuthentication",
        "associations.accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["associations.api.backends.ListFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "config.api.StandardPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "associations.api.schema.ProjectAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "计划生育协会管理平台 API",
    "DESCRIPTION": "计生协管理平台的 REST 接口。所有数据均按调用者所属组织节点限定范围。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "MemberStatusEnum": "members.models.Member.Status",
        "GroupRoleEnum": "members.models.GroupRole.Role",
        "CommendationKindEnum": "members.models.Commendation.Kind",
        "StaffRoleEnum": "associations.models.Role",
        "AssociationKindEnum": "associations.models.Kind",
        "AssistanceKindEnum": "households.models.AssistanceKind",
        "HardshipStatusEnum": "households.models.HardshipAssessment.Status",
        "ActivityKindEnum": "activities.models.Activity.Kind",
        "PeriodKindEnum": "reports.models.PeriodKind",
        "PeriodStateEnum": "reports.models.AssessmentPeriod.State",
        "SubmissionStateEnum": "reports.models.Submission.State",
        # Headers (issue 12): a name for the attachments' kind, so check --deploy is clean
        "AttachmentKindEnum": "associations.attachments.models.AttachmentKind",
        # Care subsidies: funds and loans
        "FundKindEnum": "benefits.models.Fund.Kind",
        "LoanStatusEnum": "benefits.models.Loan.Status",
        "FundEntryDirectionEnum": "benefits.models.FundEntry.Direction",
        "FundEntrySourceEnum": "benefits.models.FundEntry.Source",
        # Care subsidies (issue 13): a programme's kind
        "ProgramKindEnum": "benefits.models.ProgramKind",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# --- Periodic tasks (celery beat) ------------------------------------------------------------
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE = {
    "refresh-household-categories": {
        "task": "households.refresh_categories_everywhere",
        "schedule": crontab(hour=2, minute=30),
    },
    "purge-expired-files": {
        "task": "associations.purge_expired_files_everywhere",
        "schedule": crontab(hour=3, minute=15),
    },
    "sweep-stale-jobs": {
        "task": "associations.sweep_stale_jobs_everywhere",
        "schedule": 60.0,
    },
    "prune-form-tokens": {
        "task": "associations.prune_form_tokens_everywhere",
        "schedule": crontab(hour=3, minute=45),
    },
}

# --- Imports and exports (associations/imports/, associations/jobs.py) ---------------------
# Uploaded rosters, their error workbooks and exported rosters hold personal data (full ID
# numbers in imports): kept only as long as the work needs them, then deleted every night by
# associations.jobs.purge_expired_files (the job records, who did what and when, stay).
IMPORT_FILE_RETENTION_DAYS = int(os.environ.get("IMPORT_FILE_RETENTION_DAYS", 30))
EXPORT_FILE_RETENTION_DAYS = int(os.environ.get("EXPORT_FILE_RETENTION_DAYS", 7))
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", 10 * 1024 * 1024))  # per upload
IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", 50_000))  # data rows per file
# Physical lines per file (rows of a sheet, lines of a CSV), blank ones included: a file of
# millions of empty lines is refused before it is read (associations/imports/checks.py).
IMPORT_MAX_LINES = int(os.environ.get("IMPORT_MAX_LINES", 100_000))
IMPORT_BACKGROUND_ROWS = 2000  # larger files are checked and imported by the Celery worker
IMPORT_MAX_PROBLEMS = 5000  # problems kept on the job (the total is always counted)

# --- Attachments (associations/attachments/) -----------------------------------------------
# Photos and documents of activities, households and councils, under MEDIA_ROOT/attachments/.
ATTACHMENT_MAX_BYTES = int(os.environ.get("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))
ATTACHMENT_MAX_PIXELS = 40_000_000  # a picture's header declaring more is refused undecoded
ATTACHMENT_MAX_EDGE = 2560  # pictures are stored at most this many pixels on the long edge
ATTACHMENT_THUMB_EDGE = 320

# --- Account security (issue 12): login lockout, API tokens and keys, API throttles ---------
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last: turns a lockout into the 429 page
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out (username, address) pair
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(os.environ.get("AXES_LOCKOUT_MINUTES", 30)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "associations.accounts.lockout.lockout_response"
# Behind a reverse proxy set AXES_IPWARE_PROXY_COUNT and AXES_IPWARE_META_PRECEDENCE_ORDER
# (django-axes' settings) so the lockout sees the client's address, not the proxy's.
API_TOKEN_DAYS = int(os.environ.get("API_TOKEN_DAYS", 30))
API_KEY_MAX_DAYS = 365
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    "associations.accounts.throttling.AnonThrottle",
    "associations.accounts.throttling.UserThrottle",
]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "token": "10/min",  # POST /api/v1/auth/token/, per address
    "user": "1200/min",  # per account or API key
    "anon": "60/min",  # calls without credentials, per address
}
# --- All-counties database role (issue 12) --------------------------------------------------
# Cross-county work (`unscoped`: tenant creation, fan-out tasks, the platform operator's pages,
# command lookups) runs on this alias, connected as a role in jsx_all_counties; the app role of
# DATABASE_URL must not be in that group (`manage.py grant_app_role`). Without it the work runs
# on the default connection (development; see associations/all_counties.py).
ALL_COUNTIES_DATABASE_URL = os.environ.get("ALL_COUNTIES_DATABASE_URL", "")
if ALL_COUNTIES_DATABASE_URL:
    DATABASES["all_counties"] = {
        **dj_database_url.parse(
            ALL_COUNTIES_DATABASE_URL, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60"))
        ),
        "TEST": {"MIRROR": "default"},  # never a test database of its own
    }

# --- Content-Security-Policy (issue 12, django-csp) -----------------------------------------
# No inline script and no on…= handler anywhere: every script is a static file of the app (the
# API docs' init script too: SpectacularSwaggerSplitView serves it as a file). tests/config/
# test_headers.py walks the pages and fails on an inline one.
from csp.constants import NONE, SELF, UNSAFE_INLINE  # noqa: E402

INSTALLED_APPS += ["csp"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "csp.middleware.CSPMiddleware",
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # Inline styles only, never scripts: the dashboard's pygal charts are inline SVG that
        # carry their own <style> element, and Swagger UI (/api/docs/) sets style attributes
        # from its script. A style cannot run code.
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],  # Swagger UI's icons are data: URIs
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- API schema behind login (issue 12) -------------------------------------------------------
# /api/schema/ answers signed-in users and API tokens only (anonymous: 401); /api/docs/ sends
# anonymous visitors to the login page (config/urls.py).
SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"] = ["rest_framework.permissions.IsAuthenticated"]
# masking (issue 12): lookups by a full ID number or phone, per user per hour (counted over
# the read log, households.IdentityRead, so every process agrees)
IDENTITY_LOOKUPS_PER_HOUR = int(os.environ.get("IDENTITY_LOOKUPS_PER_HOUR", "60"))
# --- Encryption at rest (associations/crypto.py) --------------------------------------------
# ID numbers and phones are encrypted in the database (AES-256-GCM). FIELD_ENCRYPTION_KEYS:
# "k2:<base64>,k1:<base64>", the first key current (new values), the others still read until
# `manage.py rotate_keys` has re-encrypted everything. BLIND_INDEX_KEY keys the HMAC that
# exact lookups and the one-person-per-county constraint use: set once, never changed.
# New keys: `manage.py generate_encryption_key`. Production refuses to start without them.
FIELD_ENCRYPTION_KEYS = {
    key_id: key
    for key_id, _, key in (
        item.strip().partition(":") for item in env_list("FIELD_ENCRYPTION_KEYS") if item
    )
}
BLIND_INDEX_KEY = os.environ.get("BLIND_INDEX_KEY", "")
# Exported rosters with full ID numbers and phones are deleted this many days after they were
# made (the nightly purge), sooner than other exports (EXPORT_FILE_RETENTION_DAYS).
FULL_IDENTITY_RETENTION_DAYS = int(os.environ.get("FULL_IDENTITY_RETENTION_DAYS", 1))
