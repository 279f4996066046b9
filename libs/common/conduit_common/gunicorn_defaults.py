"""Gunicorn settings every service shares; each service's gunicorn.conf.py
does `from conduit_common.gunicorn_defaults import *` and may override.

gthread workers keep client connections alive (sync workers close after every
response), which matters behind nginx and for calls between services.
Apps are built per worker (no preload_app): engines, pools and HTTP sessions must
not be shared across a fork.
"""
import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = 75            # longer than nginx's upstream keepalive_timeout (60 s)
timeout = 30
graceful_timeout = 20
preload_app = False
accesslog = None          # the app logs each request as JSON, with its request id
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
worker_tmp_dir = os.environ.get("GUNICORN_TMP_DIR", "/tmp")
control_socket_disable = True  # one fixed path per user would collide between services
