"""The only package that knows SQL: schema, migrations, logs, and the queries other stages use."""

from .workspace import DEFAULT_DB, Workspace, WorkspaceBusy, default_reviewer, init, now

__all__ = ["DEFAULT_DB", "Workspace", "WorkspaceBusy", "default_reviewer", "init", "now"]
