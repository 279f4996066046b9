"""Conduit auth service: users, registration, login, the current user."""
