"""Gunicorn settings of the articles service: the shared defaults, with more threads.

Its reads wait longer on Postgres than the owners' (a list page or the feed is about
1 ms of it): with 2 threads per worker the feed left a quarter of the two CPUs idle
under wrk, so articles keeps 4 (gunicorn_defaults explains why the others have 2).
"""
from conduit_common.gunicorn_defaults import *  # noqa: F401,F403
from conduit_common.gunicorn_defaults import public_threads

threads = public_threads(4)
