"""WSGI entry point: `gunicorn -c services/auth/gunicorn.conf.py conduit_auth.wsgi:app`."""
from conduit_auth.app import create_app

app = create_app()
