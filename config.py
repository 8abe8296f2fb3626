"""Configuration read from the environment (12-factor).

Development gets working defaults; production refuses to start without its secrets.
"""
from __future__ import annotations

import os
from email.utils import formataddr
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'petition.sqlite'}"
    # A plain postgresql:// URL must work; SQLAlchemy would pick psycopg2, we ship psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # Seconds to wait for PostgreSQL to answer a new connection (libpq's minimum is 2).
    DATABASE_CONNECT_TIMEOUT = _int("DATABASE_CONNECT_TIMEOUT", 5)
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    MAIL_URL = os.environ.get("MAIL_URL", "console://")
    # The sender's name is the site's (never "petition"): see SITE_NAME below.
    MAIL_FROM = os.environ.get("MAIL_FROM") or formataddr(
        (os.environ.get("SITE_NAME") or os.environ.get("ORGANISER_NAME") or "Open letters",
         "noreply@localhost"))
    # Deliver due mail from a thread inside the web process, so the default set-up needs no
    # extra process; production may run `flask mail worker` instead and turn this off.
    MAIL_DISPATCH_IN_PROCESS = _bool("MAIL_DISPATCH_IN_PROCESS", True)
    MAIL_DISPATCH_INTERVAL = float(os.environ.get("MAIL_DISPATCH_INTERVAL", "2"))
    # The only defaults of the MAIL_* settings: the mail code reads app.config, no fallback.
    # With 30 s doubling up to an hour between tries, 16 attempts ride out a ~9 h outage.
    MAIL_MAX_ATTEMPTS = _int("MAIL_MAX_ATTEMPTS", 16)
    MAIL_RETRY_BASE = _int("MAIL_RETRY_BASE", 30)  # seconds before the first retry; doubles
    MAIL_RETRY_MAX = _int("MAIL_RETRY_MAX", 3600)  # longest wait between two attempts
    # Seconds a claimed mail stays with one worker before another may take it (a dead worker).
    MAIL_LEASE = _int("MAIL_LEASE", 300)
    MAIL_FAILED_RETENTION = _int("MAIL_FAILED_RETENTION", 0)  # 0: as long as CONFIRM_MAX_AGE
    MAIL_TLS_VERIFY = _bool("MAIL_TLS_VERIFY", True)
    MAIL_TLS_CA_FILE = os.environ.get("MAIL_TLS_CA_FILE") or None
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", "20"))
    # Mails to one address about one letter in an hour (e-petitions allows five per
    # signature): enough for "already signed" and corrections, too few to bomb a mailbox.
    MAIL_PER_ADDRESS_PER_HOUR = _int("MAIL_PER_ADDRESS_PER_HOUR", 5)
    # A news update's mails are spaced to go out at this rate (one a second by default), so
    # a big list neither trips the mail provider's limits nor holds up confirmation mails,
    # which are due at once and go out between them.
    NEWS_MAILS_PER_MINUTE = _int("NEWS_MAILS_PER_MINUTE", 60)
    CONFIRM_MAX_AGE = _int("CONFIRM_MAX_AGE", 72 * 3600)
    # The largest scan of a reply to a drive's letter (PDF, JPEG or PNG) an organiser may
    # attach: mailed to the writer, it must pass their mail server's limit (often 10-25 MB).
    DRIVE_REPLY_MAX_BYTES = _int("DRIVE_REPLY_MAX_BYTES", 5 * 2**20)
    # Never-confirmed signatures are deleted this long after their last link was sent.
    UNCONFIRMED_RETENTION = _int("UNCONFIRMED_RETENTION", 7 * 24 * 3600)
    EMAIL_KEY = os.environ.get("EMAIL_KEY")
    # Who runs the campaign and how to reach them: the privacy notice names them.
    ORGANISER_NAME = os.environ.get("ORGANISER_NAME", "")
    ORGANISER_CONTACT = os.environ.get("ORGANISER_CONTACT", "")
    # The site's name in the header, the footer, the page titles and the mails; unset, the
    # organiser's name, else "Open letters" in the reader's language.
    SITE_NAME = os.environ.get("SITE_NAME", "")
    # A logo for the header (SVG, PNG, WebP or JPEG), its alt text the site's name: a path,
    # absolute or relative to instance/. Unset: instance/logo.svg (.png, .webp, .jpg) if there.
    SITE_LOGO = os.environ.get("SITE_LOGO", "")
    # A new letter's default: days after it closes before its signers' email fingerprints
    # are erased (names, countries and counts stay). Each letter may set its own.
    FINGERPRINT_RETENTION_DAYS = _int("FINGERPRINT_RETENTION_DAYS", 90)
    # Abuse review (petition/abuse/): submission events (keyed hashes of the client address
    # and its block, the mail domain) are deleted this many hours after the submission, by
    # the worker's hourly pass: hours, not days.
    ABUSE_EVENT_HOURS = max(1, _int("ABUSE_EVENT_HOURS", 48))
    # A trend: this many submissions to one letter in an hour from one /24 (IPv4) or /64
    # (IPv6) block, or with addresses of one mail domain (free-mail providers count like any
    # other), is shown to the organisers and mailed to them once.
    ABUSE_TREND_BLOCK_PER_HOUR = max(1, _int("ABUSE_TREND_BLOCK_PER_HOUR", 30))
    ABUSE_TREND_DOMAIN_PER_HOUR = max(1, _int("ABUSE_TREND_DOMAIN_PER_HOUR", 100))
    # A bulk invalidation of up to this many signatures runs in the request or command that
    # starts it; a bigger one is left to the worker, which goes through it in chunks.
    INVALIDATION_INLINE_MAX = max(0, _int("INVALIDATION_INLINE_MAX", 2000))
    EMAIL_CHECK_DELIVERABILITY = _bool("EMAIL_CHECK_DELIVERABILITY", False)
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # Hard limit on signing and writing, per client address (an IPv6 /64 as one): past it,
    # 429 and the form again with what was typed. High enough that a conference room or a
    # campus behind one NAT address never meets it (two people a second for a minute, a
    # thousand-seat hall in an hour); a script that could go faster is met by the soft
    # limits below long before. Shared by the workers through RATELIMIT_STORAGE_URI.
    RATELIMIT_SIGN = os.environ.get("RATELIMIT_SIGN", "120 per minute;2000 per hour")
    # Soft limits, per letter (each letter may set its own: `flask letter update
    # --soft-limits`): past one, a signature is kept, confirmed and mailed as any other but
    # flagged (neither counted nor listed) for the moderation queue; the sender sees nothing.
    # A burst rate, then a sustained one (flask-limiter's syntax; "off" for none).
    ABUSE_SOFT_LIMITS_ENABLED = _bool("ABUSE_SOFT_LIMITS_ENABLED", True)
    ABUSE_SOFT_LIMIT_ADDRESS = os.environ.get("ABUSE_SOFT_LIMIT_ADDRESS",
                                              "50 per 10 minutes;300 per day")
    ABUSE_SOFT_LIMIT_BLOCK = os.environ.get("ABUSE_SOFT_LIMIT_BLOCK",
                                            "100 per 10 minutes;1000 per day")
    ABUSE_SOFT_LIMIT_DOMAIN = os.environ.get("ABUSE_SOFT_LIMIT_DOMAIN",
                                             "100 per 10 minutes;1000 per day")
    # Big mail providers, and their subdomains, exempt from the domain limit (thousands of
    # real people share each on a viral day); comma-separated, replaces the list.
    ABUSE_COMMON_DOMAINS = frozenset(
        domain.strip().lower() for domain in os.environ.get("ABUSE_COMMON_DOMAINS", (
            "gmail.com,googlemail.com,outlook.com,outlook.fr,hotmail.com,hotmail.fr,"
            "hotmail.co.uk,live.com,live.fr,msn.com,yahoo.com,yahoo.fr,yahoo.co.uk,ymail.com,"
            "icloud.com,me.com,mac.com,proton.me,protonmail.com,pm.me,yandex.ru,ya.ru,"
            "yandex.com,mail.ru,bk.ru,inbox.ru,list.ru,rambler.ru,gmx.de,gmx.net,gmx.com,"
            "gmx.fr,web.de,t-online.de,orange.fr,wanadoo.fr,free.fr,laposte.net,sfr.fr,"
            "aol.com,zoho.com,tutanota.com,tuta.io,fastmail.com,posteo.de,mailbox.org"
        )).split(",") if domain.strip())
    # The sign and letter forms: a post sooner than this many seconds after the form was
    # shown is a script's, dropped silently as the honeypot's are; 0 turns it off.
    SIGN_MIN_SECONDS = max(0.0, float(os.environ.get("SIGN_MIN_SECONDS") or 3))
    # Seconds shared caches (nginx, a CDN) may keep the public pages, lists, JSON and badge;
    # never past a running embargo (docs/caching.md). 0: kept by no cache.
    PUBLIC_CACHE_SECONDS = max(0, int(os.environ.get("PUBLIC_CACHE_SECONDS") or 30))
    # The form that mails withdrawal links, per client: it sends mail to any address typed.
    RATELIMIT_WITHDRAW = os.environ.get("RATELIMIT_WITHDRAW", "10 per minute;60 per hour")
    # One-click unsubscribes, per client: a mail provider posts them (RFC 8058) for many
    # people from a few addresses, so wider than withdraw's; each needs a valid token.
    RATELIMIT_NEWS_UNSUBSCRIBE = os.environ.get("RATELIMIT_NEWS_UNSUBSCRIBE",
                                                "60 per minute;600 per hour")
    RATELIMIT_HEADERS_ENABLED = True
    # A Redis outage must not stop signing: count in this process's memory meanwhile (the
    # same limits, per process), with a warning in the log, and try Redis again later; any
    # other limiter failure is logged and lets the request through.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    # Seconds to wait for Redis before counting in memory (a hung Redis would hold requests).
    RATELIMIT_REDIS_TIMEOUT = float(os.environ.get("RATELIMIT_REDIS_TIMEOUT", "1"))
    # Where processes share the built press lists (a Redis URL), so one rebuilds a changed
    # list for all. Unset: the rate limits' Redis if RATELIMIT_STORAGE_URI is one; "memory://"
    # or "off": each process keeps its own. A Redis outage falls back to the latter.
    CACHE_REDIS_URL = os.environ.get("CACHE_REDIS_URL") or None
    # Seconds to wait for that Redis before going on without it.
    CACHE_REDIS_TIMEOUT = float(os.environ.get("CACHE_REDIS_TIMEOUT", "0.5"))
    # Seconds a press list request waits for the rebuild of a changed list whose last build
    # took longer (a big letter) before it gets the previous list; the rebuild goes on.
    PRESS_BUILD_WAIT = float(os.environ.get("PRESS_BUILD_WAIT", "0.1"))
    TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)
    # How many processes serve requests, as the server was told (docs/deployment/
    # gunicorn.conf.py reads GUNICORN_WORKERS; gunicorn's own default is WEB_CONCURRENCY).
    # Production refuses per-process (memory://) rate limits when more than one serves.
    WEB_WORKERS = _int("GUNICORN_WORKERS", _int("WEB_CONCURRENCY", 1))
    # "plain" (default) or "json": one JSON object per line for the app's own log.
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")
    # Seconds /healthz waits for the database's answer to SELECT 1.
    HEALTH_DATABASE_TIMEOUT = float(os.environ.get("HEALTH_DATABASE_TIMEOUT", "2"))
    LANGUAGES = ("en", "fr", "ru")
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    EXPORT_DIR = os.environ.get("EXPORT_DIR", str(BASE_DIR / "exports"))
    # Above this many listed individuals the page shows counts per country and links to the
    # full press list: 70,000 names would make a page of several megabytes.
    PUBLIC_NAMES_LIMIT = _int("PUBLIC_NAMES_LIMIT", 2000)
    # The same for organisations (10,000 names alone make ~400 KB): past it, each country's
    # organisations are on the country's own page.
    PUBLIC_ORGANIZATIONS_LIMIT = _int("PUBLIC_ORGANIZATIONS_LIMIT", 1000)
    # Up to this many names in all, the page shows every name unfolded (an appeal's 43
    # organisations); past it, a table of counts per country first, each country folded.
    PUBLIC_NAMES_OPEN = _int("PUBLIC_NAMES_OPEN", 100)
    # Names per page of a country's own list (/letters/<slug>/signatories/<country>).
    SIGNATORIES_PAGE_SIZE = max(1, _int("SIGNATORIES_PAGE_SIZE", 500))
    # "Find a name on this list", per client address.
    RATELIMIT_NAME_SEARCH = os.environ.get("RATELIMIT_NAME_SEARCH", "30 per minute;300 per hour")
    # The largest form is a few hundred bytes: refuse big bodies before parsing them.
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 64 * 1024)
    # Except the back office's import forms, for signed-in accounts: a list of a few
    # thousand rows. Larger lists go through `flask signatures import`.
    IMPORT_MAX_BYTES = _int("IMPORT_MAX_BYTES", 2_000_000)
    SESSION_COOKIE_HTTPONLY = True
    # The back office: failed logins allowed per client address and per typed email.
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "5 per minute;30 per hour")
    # Lookups of a signature by exact address ("who signed?"), per back-office account.
    RATELIMIT_ADDRESS_LOOKUP = os.environ.get("RATELIMIT_ADDRESS_LOOKUP", "20 per hour")
    # A back-office login lasts this long, whatever the browser does with its cookie.
    ADMIN_SESSION_HOURS = float(os.environ.get("ADMIN_SESSION_HOURS", "8"))
    # Its own cookie (Path=/admin, SameSite=Strict): see petition/admin/cookie.py.
    ADMIN_SESSION_COOKIE_NAME = os.environ.get("ADMIN_SESSION_COOKIE_NAME", "petition_admin")
    # None: required in production, offered in development.
    ADMIN_TOTP_REQUIRED = (None if not os.environ.get("ADMIN_TOTP_REQUIRED")
                           else _bool("ADMIN_TOTP_REQUIRED", True))
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # tie the token to the session, not a clock: long letters take time


class ConfigurationError(RuntimeError):
    """The app cannot start safely with this configuration."""


class DevelopmentConfig(Config):
    """Local work: generated secrets in instance/, console mail."""


class ProductionConfig(Config):
    """Real deployments: secrets must come from the environment."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True


ENVIRONMENTS: dict[str, type[Config]] = {"development": DevelopmentConfig,
                                         "production": ProductionConfig}


def config_class(name: object, source: str = "PETITION_ENV") -> type[Config]:
    """The settings of the environment `name`; refuse any name but the exact known ones.

    "prod" or "Production " quietly running development would put a deployment on generated
    keys and cookies sent over plain HTTP: fail at start instead.
    """
    if isinstance(name, str) and name in ENVIRONMENTS:
        return ENVIRONMENTS[name]
    raise ConfigurationError(
        f"{source} is {name!r}: it must be exactly one of {', '.join(map(repr, ENVIRONMENTS))}"
    )


def config_from_env() -> type[Config]:
    # FLASK_ENV is Flask's old name for it: a deployment still setting only that one must
    # not fall back to development.
    for variable in ("PETITION_ENV", "FLASK_ENV"):
        if variable in os.environ:
            return config_class(os.environ[variable], variable)
    return DevelopmentConfig
