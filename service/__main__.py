"""`python -m service [uvicorn options]`: serve the app, draining in-flight requests on SIGTERM.

uvicorn on SIGTERM stops accepting connections, lets running requests finish for at most
`--timeout-graceful-shutdown` seconds (20 here unless given; below Kubernetes' default
30 s grace), runs the lifespan shutdown, then re-raises the signal to the handler it found.
That handler exits 0, so a drained shutdown is a clean exit rather than "killed by SIGTERM".
"""

import signal
import sys

GRACE_S = 20


def main() -> None:
    import uvicorn.main

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    defaults = ["service.main:app", "--timeout-graceful-shutdown", str(GRACE_S)]
    sys.argv = ["uvicorn", *defaults, *sys.argv[1:]]  # options given later win
    uvicorn.main.main()


if __name__ == "__main__":
    main()
