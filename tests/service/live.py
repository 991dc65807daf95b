"""The app behind a real uvicorn socket, for clients that open their own connections."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from service.main import create_app
from service.settings import Settings


@contextmanager
def served(settings: Settings) -> Iterator[str]:
    """A real uvicorn server on a free 127.0.0.1 port, in a thread; yields its base URL."""
    # log_config=None: uvicorn's dictConfig would close pytest's capture handlers; the
    # app's lifespan reconfigures uvicorn's loggers in any case
    app = create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, log_level="info")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(600):
            if server.started or not thread.is_alive():
                break
            thread.join(0.05)
        assert server.started, "uvicorn did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
