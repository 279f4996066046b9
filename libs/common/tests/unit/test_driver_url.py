"""Every engine runs on psycopg 3, whatever driver an older DATABASE_URL names."""
import pytest

from conduit_common.db import create_db_engine, libpq_url, with_our_driver


@pytest.mark.parametrize("scheme", ["postgresql+psycopg2", "postgresql", "postgres",
                                    "postgresql+psycopg"])
def test_postgres_urls_are_pointed_at_psycopg(scheme):
    url = f"{scheme}://conduit_auth:s3cret@db:5432/conduit?sslmode=require"
    assert with_our_driver(url) == ("postgresql+psycopg://conduit_auth:s3cret@db:5432/"
                                    "conduit?sslmode=require")


@pytest.mark.parametrize("url", ["sqlite:///x.db", "postgresql+asyncpg://u@h/d", "not a url"])
def test_other_urls_are_left_alone(url):
    assert with_our_driver(url) == url


def test_an_engine_from_a_psycopg2_url_uses_psycopg():
    engine = create_db_engine("postgresql+psycopg2://u:p@127.0.0.1:1/conduit")
    try:
        assert engine.dialect.driver == "psycopg"
    finally:
        engine.dispose()


@pytest.mark.parametrize("scheme", ["postgresql+psycopg", "postgresql+psycopg2", "postgresql"])
def test_libpq_gets_the_url_without_the_driver_and_with_its_password(scheme):
    url = f"{scheme}://conduit_auth:s3cret@db:5432/conduit?sslmode=require"
    assert libpq_url(url) == "postgresql://conduit_auth:s3cret@db:5432/conduit?sslmode=require"
    assert libpq_url(url, "other") == ("postgresql://conduit_auth:s3cret@db:5432/other"
                                       "?sslmode=require")
