"""gunicorn settings for petition: `gunicorn -c docs/deployment/gunicorn.conf.py wsgi:app`.

The access log names no client and no token. A confirmation or withdrawal link in a log
is a working link to someone's signature, and an address beside it says whose: the
format below has no %(h)s (remote address), referer or user agent, and the logger class
masks /confirm/<token> and /withdraw/<token> in every line, error log included, and
refuses header and environ atoms (X-Forwarded-For) whatever the format asks for.

Settings given on the command line or in GUNICORN_CMD_ARGS win over this file.
"""
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")  # behind a reverse proxy
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# The request's time, its line (path masked), status, bytes and duration: enough to see
# load and errors, nothing about who asked.
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = os.environ.get("GUNICORN_ERRORLOG", "-")
access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(M)sms'
logger_class = "petition.core.log_scrubbing.TokenMaskingLogger"
# gunicorn 27 opens a control socket at ~/.gunicorn/gunicorn.ctl, one per user: two services
# run by one user (or a test beside a service) would share it. Nothing here uses it.
control_socket_disable = True
# The reverse proxy in front keeps its own access log: give it a format without the
# client address and without the path of /confirm/ and /withdraw/ requests too, as
# nginx.conf and Caddyfile in this folder do.


def on_starting(server):
    """Refuse to start production workers that would each count rate limits on their own.

    The app refuses too when GUNICORN_WORKERS or WEB_CONCURRENCY says so; this hook also
    sees --workers from the command line. A ConfigurationError is a RuntimeError: gunicorn
    prints "Error: <why>" and exits with status 1.
    """
    from config import ConfigurationError, config_from_env
    from petition.core.startup_checks import shared_limits_problem

    settings = config_from_env()
    problem = shared_limits_problem(settings.ENV_NAME, server.cfg.workers,
                                    settings.RATELIMIT_STORAGE_URI, settings.RATELIMIT_ENABLED)
    if problem:
        raise ConfigurationError(problem)
