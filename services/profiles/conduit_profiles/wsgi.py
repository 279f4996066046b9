"""Gunicorn's entry point: conduit_profiles.wsgi:app."""
from conduit_profiles.app import create_app

app = create_app()
