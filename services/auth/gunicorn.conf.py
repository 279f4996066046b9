"""Gunicorn settings of the auth service: the shared defaults, with the internal port
served by a worker of its own (its event feed; conduit_common.gunicorn_worker)."""
import os

os.environ.setdefault("INTERNAL_WORKER", "dedicated")

from conduit_common.gunicorn_defaults import *  # noqa: E402,F401,F403
