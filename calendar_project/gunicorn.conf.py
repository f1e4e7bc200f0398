"""gunicorn's configuration for Rounds: ``gunicorn -c calendar_project/gunicorn.conf.py``.

Every value comes from the environment (docs/operations.md#web-server-gunicorn). The workers are
synchronous processes: Rounds' views are plain Django, and the database timeouts
(ROUNDS_DB_CONNECT_TIMEOUT, ROUNDS_DB_STATEMENT_TIMEOUT) end a stuck request before gunicorn's own
``timeout`` kills the worker.
"""

import os

wsgi_app = "calendar_project.wsgi:application"
bind = os.environ.get("ROUNDS_BIND", "127.0.0.1:8000").split(",")
workers = int(os.environ.get("ROUNDS_WEB_WORKERS", "3"))
# A worker silent this long is killed and replaced; above the statement timeout (30 s by default).
timeout = int(os.environ.get("ROUNDS_WEB_TIMEOUT", "60"))
# On SIGTERM or a reload, requests in flight get this long to finish.
graceful_timeout = int(os.environ.get("ROUNDS_WEB_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Replace a worker after this many requests (with jitter, so they do not all restart at once):
# bounds slow memory growth.
max_requests = int(os.environ.get("ROUNDS_WEB_MAX_REQUESTS", "1000"))
max_requests_jitter = max(1, max_requests // 10)
# The access log (stdout by default, "" for none) carries the request id Rounds answers with,
# the same id as in Rounds' own log lines and on its error pages.
accesslog = os.environ.get("ROUNDS_WEB_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("ROUNDS_WEB_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms [%({x-request-id}o)s] "%(a)s"'
# The TLS-terminating proxy in front sets X-Forwarded-Proto (docs/operations.md#https); trust it
# only from the addresses listed here.
forwarded_allow_ips = os.environ.get("ROUNDS_FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker: object) -> None:
    """Once the worker has loaded Rounds: load the views too, and keep all of it out of the collector's walks."""
    from core.worker import worker_ready

    worker_ready()
