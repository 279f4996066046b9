from conduit_common.gunicorn_defaults import *  # noqa: F401,F403
