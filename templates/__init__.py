"""Jinja2 templates of the gen-topics code generator (package data, found via importlib)."""
