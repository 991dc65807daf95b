"""Where the process is in its life: serving, or draining for a shutdown."""


class Lifecycle:
    """Shared by the HTTP server (which starts the drain on SIGTERM) and the readiness routes."""

    def __init__(self) -> None:
        self.draining = False

    def begin_drain(self) -> None:
        self.draining = True
