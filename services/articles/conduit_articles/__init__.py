"""Conduit articles service: articles, comments, tags and favorites."""
