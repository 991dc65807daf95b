"""Where the process is in its life, shared by the HTTP server and the app's readiness route.

SIGTERM starts the drain: readiness answers 503 at once so load balancers take the pod out,
while requests are still answered for SHUTDOWN_DELAY_S; then the server stops accepting
(`stopping`), answers what it already holds, closes each connection after its response
and exits. Plain flags: set from a signal handler, read on every request, no locking needed.
"""


class Lifecycle:
    """Shared by the HTTP server (which starts the drain on SIGTERM) and the readiness routes:
    `draining` from SIGTERM on (readiness 503); `stopping` once no longer accepting."""

    def __init__(self) -> None:
        self.draining = False
        self.stopping = False

    def begin_drain(self) -> None:
        self.draining = True

    def begin_stop(self) -> None:
        self.draining = self.stopping = True
