"""Registry-facing subcommands of gen-topics: ``compat``, ``pull`` and ``push``."""
