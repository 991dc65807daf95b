"""One HTTP/1.1 connection: uvicorn's httptools protocol with the bounds it lacks.

uvicorn buffers a URL or header of any size, waits forever for headers and for a body,
answers its own errors in plain text, holds a refusal decided mid-body until a response
that never comes, and on shutdown closes connections whose request it has not read yet.
This subclass answers, in the JSON error body the request's path calls for (TF Serving's and
v2's `{"error"}` under /v1 and /v2, the native one elsewhere) with `Connection: close`, at once
whatever phase the request is in: 414 for a request target over MAX_URL_BYTES and 431 for
header lines over MAX_HEADER_BYTES, as soon as the limit is passed; 408 when a request's
headers are not complete HEADER_TIMEOUT_S after it began, or when its body stalls for
BODY_TIMEOUT_S between two reads (nginx's `client_body_timeout`); 413 for a chunk whose
announced size is over MAX_BODY_BYTES; 503 beyond MAX_CONNECTIONS open connections; 400
for malformed HTTP (a bad chunk size included). Then it reads and drops the rest of the
client's upload for at most LINGER_S, so the client reads the answer instead of a reset.
On shutdown a request that has arrived, even if only the kernel has read it, is answered.

No uvicorn setting does any of this (`limit_concurrency` answers a plain-text 503,
`h11_max_incomplete_event_size` bounds only the h11 protocol's head, and nothing bounds
a head's or a body's time), so the class goes where uvicorn's `Config(http=...)` takes a
protocol class, and reaches into what uvicorn's own class keeps (uvicorn 0.53-0.55,
httptools 0.9): the parser callbacks it extends, `shutdown`, `self.parser`, `self.cycle`
(`keep_alive`, `response_complete`, `response_started`, `disconnected`, `body`,
`message_event`), `self.pipeline`, `self.connections`, `self.tasks`, `self.flow`,
`self.server_state.default_headers` and `_unset_keepalive_if_required`.
tests/service/test_server_limits.py and test_shutdown.py fail if any of them changes.
"""

import fcntl
import json
import logging
import struct
import termios
from asyncio import TimerHandle
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.core.lifecycle import Lifecycle
from service.protocols.errors import body_for

# While a request head is incomplete the parser gets at most SLICE bytes at a time and the
# limits are checked in between: httptools joins a header's pieces itself, so this is what
# keeps it from holding more than about the limit + 2 * SLICE.
SLICE = 4096
LINGER_S = 2.0  # after a server answer: drop the client's remaining upload this long
REQUEST_LINE_SLACK = 64  # method, spaces, "HTTP/1.1", line ends: not header bytes
SIZE_LINE = 128  # bytes read back for a chunk's size line (hex size and short extensions)
TARGET = 5  # bytes of the request target kept to pick the error body: "/v1/x", "/v2?"

log = logging.getLogger("service.server")
Headers = tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True)
class Limits:
    """The HTTP server's bounds, from Settings (docs/limits.md)."""

    max_url_bytes: int
    max_header_bytes: int
    header_timeout_s: float
    max_connections: int
    body_timeout_s: float = 60.0
    max_body_bytes: int = 1 << 20


class Refused(Exception):
    """Raised in a parser callback to stop parsing; `data_received` answers it."""

    def __init__(self, status: int, message: str, headers: Headers = ()) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


def error_response(
    status: int, message: str, headers: list[tuple[bytes, bytes]], path: str = ""
) -> bytes:
    """A complete response with the error body a client of `path` reads (TF Serving's and
    v2's `{"error"}` under /v1 and /v2, the native one elsewhere), closing the connection."""
    body = json.dumps(body_for(path, message)).encode()
    fields = [
        *headers,
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    lines = [b"%s: %s\r\n" % field for field in fields]
    status_line = b"HTTP/1.1 %d %s\r\n" % (status, HTTPStatus(status).phrase.encode())
    return b"".join([status_line, *lines, b"\r\n", body])


class BoundedHttpProtocol(HttpToolsProtocol):
    """Built by uvicorn per connection: `Config(http=partial(BoundedHttpProtocol, ...))`."""

    def __init__(self, *args: Any, limits: Limits, lifecycle: Lifecycle, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits, self.lifecycle = limits, lifecycle
        self.head_started = False  # a request began; its headers are not complete yet
        self.in_body = False
        self.heads = 0  # request heads completed on this connection
        self.url_bytes = self.header_bytes = self.head_bytes = 0
        self.header_timer: TimerHandle | None = None
        self.body_timer: TimerHandle | None = None
        self.body_read_at = 0.0  # the loop's time of the last read inside a body
        self.chunked = False  # the request being read has `Transfer-Encoding`
        self.chunk_at: int | None = None  # len(cycle.body) when a chunk's size line ended
        self.tail = b""  # the end of the previous read, for a size line split across reads
        self.refused = False  # answered by the server: later input is dropped
        self.deferred: Refused | None = None  # waits for the response in progress
        self.linger: TimerHandle | None = None
        self.target = b""  # the request target's first bytes: enough to pick the error body

    # -- connection --------------------------------------------------------------------

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.arm_header_timer()  # also closes a connection that never sends anything

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self.header_timer, self.body_timer, self.linger):
            if timer is not None:
                timer.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        if self.refused:
            return  # the answer is written; the rest of the upload is dropped
        try:
            if self.in_body or len(data) <= SLICE:
                self.feed(data)
            else:
                self.feed_slices(memoryview(data))
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except Refused as refusal:
            self.refuse(refusal)
        except httptools.HttpParserError as exc:
            refusal = exc.__context__
            if not isinstance(refusal, Refused):
                refusal = Refused(400, f"malformed HTTP request: {exc}".rstrip(": "))
            self.refuse(refusal)
        else:
            if self.head_started and self.header_timer is None:
                self.arm_header_timer()
            if self.in_body:  # a body is on its way: bound the wait for its next bytes
                self.body_read_at = self.loop.time()
                if self.body_timer is None:
                    self.arm_body_timer(self.limits.body_timeout_s)
                if self.chunk_at is not None:
                    self.check_chunk(data)
                if self.chunked:
                    self.tail = data[-SIZE_LINE:]

    def feed_slices(self, view: memoryview) -> None:
        for start in range(0, len(view), SLICE):
            if self.in_body:  # the head is complete: the rest goes in at once
                self.feed(view[start:])
                return
            self.feed(view[start : start + SLICE])
            if self.transport.is_closing():
                return

    def feed(self, piece: bytes | memoryview) -> None:
        inside, heads = self.head_started, self.heads
        self.parser.feed_data(piece)
        if inside and self.head_started and self.heads == heads:  # `piece` is all head
            self.head_bytes += len(piece)
            if self.head_bytes - self.url_bytes - REQUEST_LINE_SLACK > self.limits.max_header_bytes:
                raise self.headers_too_large()

    # -- parser callbacks --------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.head_started, self.chunked, self.target = True, False, b""
        self.url_bytes = self.header_bytes = self.head_bytes = 0

    def on_url(self, url: bytes) -> None:
        if len(self.target) < TARGET:
            self.target += url[: TARGET - len(self.target)]
        self.url_bytes += len(url)
        if self.url_bytes > self.limits.max_url_bytes:
            limit = self.limits.max_url_bytes
            raise Refused(414, f"the request target is over MAX_URL_BYTES ({limit} bytes)")
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_bytes += len(name) + len(value) + 4  # "name: value\r\n"
        if self.header_bytes > self.limits.max_header_bytes:
            raise self.headers_too_large()
        if self.in_body:
            return  # a trailer field, after the last chunk: dropped (RFC 9110 6.5.1)
        if len(name) == 17 and name.lower() == b"transfer-encoding":
            self.chunked = True  # the parser refuses any other final coding
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.head_started, self.heads = False, self.heads + 1
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None
        limit = self.limits.max_connections
        if len(self.connections) > limit or len(self.tasks) >= limit:
            message = f"the server holds MAX_CONNECTIONS ({limit}) connections; retry later"
            raise Refused(503, message, ((b"retry-after", b"1"),))
        previous = self.cycle
        super().on_headers_complete()
        self.in_body = True
        if self.lifecycle.draining and self.cycle is not previous:
            self.cycle.keep_alive = False  # each client moves on after this response

    def on_message_complete(self) -> None:
        self.in_body = False
        self.chunk_at = None
        super().on_message_complete()

    def on_chunk_header(self) -> None:
        """A chunk's size line has been read: where its data begins in the cycle's body."""
        if not self.cycle.response_complete:  # else uvicorn drops the data
            self.chunk_at = len(self.cycle.body)

    def on_chunk_complete(self) -> None:
        self.chunk_at = None

    def check_chunk(self, data: bytes) -> None:
        """413 at once for a chunk announced over MAX_BODY_BYTES. The parser takes sizes up to
        2**64 - 1 and keeps them to itself; the size line of the chunk in progress ends where
        its data began in this read, so it is read back from there."""
        end = len(data) - (len(self.cycle.body) - self.chunk_at) - 2  # before its CRLF
        self.chunk_at = None
        line = bytes(data[max(0, end - SIZE_LINE) : max(0, end)])
        if end < SIZE_LINE:  # the line may have begun in the previous read
            line = bytes(self.tail)[: len(self.tail) + min(0, end)] + line
        line = line.rsplit(b"\n", 1)[-1]
        try:
            size = int(line.split(b";", 1)[0].strip(b" \t\r"), 16)
        except ValueError:
            return  # not a size line: the parser is the judge of its syntax
        if size > self.limits.max_body_bytes:
            limit = self.limits.max_body_bytes
            self.refuse(Refused(413, f"a chunk of {size} bytes is over MAX_BODY_BYTES ({limit})"))

    def headers_too_large(self) -> Refused:
        limit = self.limits.max_header_bytes
        return Refused(431, f"the request headers are over MAX_HEADER_BYTES ({limit} bytes)")

    # -- answers of the server itself --------------------------------------------------

    def arm_header_timer(self) -> None:
        self.header_timer = self.loop.call_later(self.limits.header_timeout_s, self.header_timeout)

    def arm_body_timer(self, delay: float) -> None:
        self.body_timer = self.loop.call_later(delay, self.body_timeout)

    def body_timeout(self) -> None:
        """408 once a body has sent nothing for BODY_TIMEOUT_S: like nginx's
        `client_body_timeout`, the wait between two reads, not the whole transfer."""
        self.body_timer = None
        if not self.in_body or self.refused:
            return
        waited = self.loop.time() - self.body_read_at
        if waited < self.limits.body_timeout_s or self.flow.read_paused:
            # bytes came meanwhile, or the app has not taken what came (not the client's wait)
            self.arm_body_timer(max(self.limits.body_timeout_s - waited, 0.05))
            return
        limit = self.limits.body_timeout_s
        self.refuse(Refused(408, f"the request body sent nothing for BODY_TIMEOUT_S ({limit:g} s)"))

    def header_timeout(self) -> None:
        self.header_timer = None
        if self.head_started:
            timeout = self.limits.header_timeout_s
            message = f"the request headers took over HEADER_TIMEOUT_S ({timeout:g} s)"
            self.refuse(Refused(408, message))
        elif (self.cycle is None or self.cycle.response_complete) and not self.refused:
            self.transport.close()  # nothing sent at all: closed without an answer

    def refuse(self, refusal: Refused) -> None:
        """Answer now, unless responses to earlier requests are still being written: then
        right after them. The request whose body was being read never gets its own."""
        self.refused = True
        for timer in (self.header_timer, self.body_timer):
            if timer is not None:
                timer.cancel()
        self.header_timer = self.body_timer = None
        client = "{}:{}".format(*self.client) if self.client else "-"
        cycle = self.cycle
        if self.in_body and cycle is not None and cycle.response_started:
            # it has its answer (sent before its body came): nothing more can be said
            log.warning("closed %s without a %d: %s", client, refusal.status, refusal.message)
            self.lingering_close()
            return
        log.warning("%d to %s: %s", refusal.status, client, refusal.message)
        if self.in_body and cycle is not None:
            self.abandon(cycle)
        if self.pipeline or (
            cycle is not None and not cycle.response_complete and not cycle.disconnected
        ):
            self.deferred = refusal  # answered after the responses before it
        else:
            self.answer(refusal)

    def abandon(self, cycle: Any) -> None:
        """The request being read will not get its body: a queued one leaves the queue, a
        running one reads a disconnect and whatever it sends is dropped."""
        for entry in self.pipeline:
            if entry[0] is cycle:
                self.pipeline.remove(entry)  # the running one is older: its end answers
                return
        cycle.disconnected = True
        cycle.message_event.set()

    def answer(self, refusal: Refused) -> None:
        if self.transport.is_closing():
            return
        headers = [*self.server_state.default_headers, *refusal.headers]
        path = self.target.split(b"?", 1)[0].decode("latin-1")
        self.transport.write(error_response(refusal.status, refusal.message, headers, path))
        self.lingering_close()

    def lingering_close(self) -> None:
        self.flow.resume_reading()  # keep reading, to drop the rest of the upload
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.linger = self.loop.call_later(LINGER_S, self.transport.close)

    def on_response_complete(self) -> None:
        if self.deferred is not None and not self.pipeline:
            self.server_state.total_requests += 1
            self.answer(self.deferred)
            self.deferred = None
            return
        super().on_response_complete()

    # -- shutdown ----------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop after what has arrived: a request in progress, or one read only by the
        kernel so far, is answered (with `Connection: close`); an idle connection closes."""
        if self.refused:
            return  # closes after its linger
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.keep_alive = False
        elif self.head_started or self.unread_bytes():
            if self.header_timer is None:
                self.arm_header_timer()  # bounds the wait for the rest of it
        else:
            self.transport.close()

    def unread_bytes(self) -> int:
        """Bytes the kernel holds for this connection that nobody has read yet."""
        try:
            fd = self.transport.get_extra_info("socket").fileno()
            return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0]
        except (AttributeError, OSError, ValueError):
            return 1  # unknown: assume a request may be waiting (the header timer bounds it)
