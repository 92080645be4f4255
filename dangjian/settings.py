"""One settings file, configured by environment variables.

DATABASE_URL  sqlite:///var/db.sqlite3 (default) or postgres://user@host:5432/name
SECRET_KEY    required when DEBUG is off
DEBUG         1 in development (the Makefile's `run` sets it), 0 in production
ALLOWED_HOSTS comma-separated host names
DATA_DIR      where the SQLite file and uploads live (default ./var), outside the web root
BACKUP_DIR    where `manage.py backup` writes (default DATA_DIR/backups)

Security (docs/security.md lists what production sets):
SECURE_COOKIES, SECURE_SSL_REDIRECT, SECURE_HSTS_SECONDS   on by default when DEBUG is off
SECURE_HSTS_INCLUDE_SUBDOMAINS, SECURE_HSTS_PRELOAD         off by default (they reach beyond this site)
SECURE_PROXY_SSL_HEADER=1     trust X-Forwarded-Proto from the reverse proxy that terminates TLS
TRUSTED_PROXIES               addresses/networks of the reverse proxies whose X-Forwarded-For names the client
TOTP_REQUIRED_FOR_ADMINS=1    系统/安全/审计管理员 must enrol a TOTP second factor before using anything
AUDIT_RETENTION_DAYS          audit events younger than this are never purged (at least 180)
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / "var"))
NODE_MODULES = BASE_DIR / "node_modules"


def env_bool(name, default=False):
    return os.environ.get(name, "1" if default else "0").lower() in ("1", "true", "yes", "on")


DEBUG = env_bool("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and not os.environ.get("DANGJIAN_ALLOW_DEV_KEY"):
        raise ImproperlyConfigured("生产环境必须设置环境变量 SECRET_KEY。")
    SECRET_KEY = "dev-only-insecure-key-change-me"
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "dangjian.core",
    "dangjian.orgs",
    "dangjian.standards",
    "dangjian.assessments",
    "dangjian.appraisal",
    "dangjian.service",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "dangjian.core.health.HealthzMiddleware",  # answers /healthz/ before sessions (core/health.py)
    "dangjian.core.proxy.TrustedProxyMiddleware",  # the client's address behind nginx (TRUSTED_PROXIES)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "dangjian.core.middleware.SessionTouchMiddleware",  # idle timeout without a write per request
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dangjian.core.middleware.RequestContextMiddleware",
    "dangjian.core.middleware.SecondFactorMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last: turns a login attempt that axes refused into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dangjian.urls"
WSGI_APPLICATION = "dangjian.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dangjian.core.context_processors.navigation",
                "dangjian.service.context.tabs",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SQLITE_TEST_NAME") or None}
# A PostgreSQL read replica (DATABASE_REPLICA_URL, parsed like DATABASE_URL): the pages, exports and API answers of
# frozen months read there, everything else stays on default (dangjian.core.db_router). In tests it mirrors default.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(os.environ["DATABASE_REPLICA_URL"], conn_max_age=60)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["dangjian.core.db_router.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background work (ARCHITECTURE.md): Django's tasks API. TASKS_BACKEND=immediate (the default: `make run`, tests)
# runs a task inside the request that enqueues it; TASKS_BACKEND=database stores it for `manage.py worker`
# processes on any machine (django-tasks-db). A worker that stops heartbeating for WORKER_LEASE_SECONDS has its
# running task handed to another worker; every task is idempotent (docs/decisions.md, "Background work").
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "immediate")
TASKS = {
    "default": {
        "BACKEND": {
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
            "database": "django_tasks_db.DatabaseBackend",
        }[TASKS_BACKEND],
        "QUEUES": ["default"],
    }
}
WORKER_HEARTBEAT_SECONDS = float(os.environ.get("WORKER_HEARTBEAT_SECONDS", 5))
WORKER_LEASE_SECONDS = float(os.environ.get("WORKER_LEASE_SECONDS", 60))

# Cache (frozen months rendered once, dangjian/core/frozen_cache.py): one LocMemCache per process by default; with
# CACHE_URL=redis://host:6379/0 one Redis shared by every app server (then install the `redis` package: it is not a
# dependency of the default set-up). FROZEN_CACHE_SECONDS: how long a rendered fragment lives (its key already
# changes with the data, so this only bounds memory and a deploy's catalog changes).
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://")):
    import importlib.util

    if importlib.util.find_spec("redis") is None:
        raise ImproperlyConfigured("CACHE_URL 指向 Redis，但没有安装 redis 包：请运行 .venv/bin/pip install redis。")
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL,
                          "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "dangjian")}}
elif CACHE_URL:
    raise ImproperlyConfigured("CACHE_URL 只支持 redis:// 或 rediss:// 地址；不设置则每个进程使用自己的内存缓存。")
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "dangjian",
                          "OPTIONS": {"MAX_ENTRIES": int(os.environ.get("CACHE_MAX_ENTRIES", 5000))}}}
FROZEN_CACHE_SECONDS = int(os.environ.get("FROZEN_CACHE_SECONDS", 24 * 3600))
# The load balancer's probe (core/health.py) may come over plain HTTP to the app server's own port.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "dangjian.core.passwords.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "dangjian.core.passwords.CharacterClassValidator"},
]
# django-axes first: it refuses a locked-out username+IP before the password is even checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Idle timeout: the session lives 30 minutes and every request starts the 30 minutes again.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = False  # SessionTouchMiddleware slides the expiry at most once a minute
SESSION_TOUCH_SECONDS = 60
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
]
STATICFILES_DIRS = [(prefix, path) for prefix, path in STATICFILES_DIRS if path.exists()]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # After `collectstatic` (production) hashed, compressed files; before it, files straight from the finders.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if (STATIC_ROOT / "staticfiles.json").exists() and not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "media"
# Uploads are never served by URL: every file goes through a view that checks the org scope.
MEDIA_URL = "/files-not-served-directly/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Limits of the Excel importer: what a hostile file can cost us.
EXCEL_MAX_UPLOAD_BYTES = int(os.environ.get("EXCEL_MAX_UPLOAD_BYTES", 20 * 1024 * 1024))
EXCEL_MAX_ROWS = int(os.environ.get("EXCEL_MAX_ROWS", 200_000))
PHOTO_MAX_BYTES = 2 * 1024 * 1024
# Evidence files of the monthly evaluation (PDF, images, Office documents), checked by content.
EVIDENCE_MAX_BYTES = int(os.environ.get("EVIDENCE_MAX_BYTES", 20 * 1024 * 1024))

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")
if env_bool("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
TRUSTED_PROXIES = os.environ.get("TRUSTED_PROXIES", "")

# Content-Security-Policy (django-csp): nothing inline, nothing from another origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Lockout (django-axes): 5 failures of one username from one IP lock that pair for 30 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "dangjian.core.audit.client_ip"
AXES_LOCKOUT_CALLABLE = "dangjian.core.views_security.lockout_response"
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True  # successful logins are in our own audit log

# Second factor (TOTP, RFC 6238): available to everyone, required for the administrator roles when set.
TOTP_REQUIRED_FOR_ADMINS = env_bool("TOTP_REQUIRED_FOR_ADMINS")
TOTP_ISSUER = os.environ.get("TOTP_ISSUER", "党建考评平台")

# Personal data at rest (身份证号, 手机号, TOTP secrets) is sealed with AES-256-GCM under keys kept outside the
# database (core.crypto, docs/security.md S6): FIELD_ENCRYPTION_KEYS (comma-separated) and/or
# FIELD_ENCRYPTION_KEY_FILE (one key per line, # comments), each the urlsafe base64 of 32 random bytes. The first
# key seals, all open; `manage.py rotate_field_key` re-seals with the first. Development and tests use a fixed
# key (`check --deploy` warns about it); production without a key does not start.
FIELD_ENCRYPTION_DEV_KEY = "ZGV2LW9ubHktZmllbGQta2V5LW5vdC1mb3ItcHJvZCE="
FIELD_ENCRYPTION_KEYS = [k.strip() for k in os.environ.get("FIELD_ENCRYPTION_KEYS", "").split(",") if k.strip()]
if os.environ.get("FIELD_ENCRYPTION_KEY_FILE"):
    try:
        _key_lines = Path(os.environ["FIELD_ENCRYPTION_KEY_FILE"]).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ImproperlyConfigured(
            f"无法读取字段加密密钥文件 FIELD_ENCRYPTION_KEY_FILE={os.environ['FIELD_ENCRYPTION_KEY_FILE']}：{exc}") from exc
    FIELD_ENCRYPTION_KEYS += [k.strip() for k in _key_lines if k.strip() and not k.lstrip().startswith("#")]
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG and not os.environ.get("DANGJIAN_ALLOW_DEV_KEY"):
        raise ImproperlyConfigured(
            "生产环境必须设置字段加密密钥 FIELD_ENCRYPTION_KEYS 或 FIELD_ENCRYPTION_KEY_FILE（加密身份证号、手机号，"
            "保存在数据库之外）。生成一个密钥："
            "python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'")
    FIELD_ENCRYPTION_KEYS = [FIELD_ENCRYPTION_DEV_KEY]

# Audit events are kept at least this long; `manage.py purge_audit` refuses anything younger.
AUDIT_RETENTION_DAYS = max(180, int(os.environ.get("AUDIT_RETENTION_DAYS", 180)))
BACKUP_DIR = Path(os.environ.get("BACKUP_DIR", DATA_DIR / "backups"))

# API tokens live this long (hours).
API_TOKEN_HOURS = int(os.environ.get("API_TOKEN_HOURS", 12))

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# Deadline reminders (manage.py remind_deadlines): this many days before each deadline, on the day and the day after.
REMINDER_DAYS_BEFORE = int(os.environ.get("REMINDER_DAYS_BEFORE", "2"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
