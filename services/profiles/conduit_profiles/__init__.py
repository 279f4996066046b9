"""Conduit profiles service: public profiles and who follows whom."""
