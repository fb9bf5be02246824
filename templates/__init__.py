"""Jinja2 templates of the gen-topics code generator; installed as ``generator.templates``."""
