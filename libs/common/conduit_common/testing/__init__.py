"""Test support shared by every package: a throwaway Postgres and fixtures."""
