"""CLI commands, one module per pipeline stage. Each module exposes ``COMMANDS``."""
