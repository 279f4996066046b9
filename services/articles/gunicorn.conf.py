"""Gunicorn settings of the articles service: the shared defaults, unchanged."""
from conduit_common.gunicorn_defaults import *  # noqa: F401,F403
