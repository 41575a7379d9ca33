"""Why the daemon cannot start."""


class StartupError(RuntimeError):
    """The daemon cannot start as configured; the message says why."""
