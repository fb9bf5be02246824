"""Service tooling for gen-topics development and tests.

Stdlib only, so that it runs before the virtual environment exists. ``scripts.services`` is the
command line (``python3 scripts/services.py start|stop|status|run``); ``scripts.stack`` is the
importable API the pytest fixtures in ``tests/conftest.py`` use.
"""
