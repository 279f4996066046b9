"""The WSGI entry point: `gunicorn conduit_articles.wsgi:app`."""
from conduit_articles.app import create_app

app = create_app()
