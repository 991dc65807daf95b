"""Content codings of a request body: gzip and deflate decoded, bounded like the body itself.

tritonclient's `request_compression_algorithm` and any HTTP client may compress a request
body (`Content-Encoding: gzip` or `deflate`, RFC 9110 8.4.1). The decoded body is held to
the same MAX_BODY_BYTES as a plain one: zlib inflates at most one byte past the limit, so a
compression bomb (a few KiB that inflate to gigabytes) costs the limit and no more, and gets
413. `identity` is no coding; any other one is refused by the gate (415) before the body is
read.
"""

import zlib
from collections.abc import Sequence

NAMES = ("gzip", "deflate", "identity")


class Undecodable(ValueError):
    """A body that is not what its Content-Encoding says (400)."""


def tokens(values: Sequence[bytes]) -> list[bytes]:
    """The codings of every line of a list-valued header, in order, lower case."""
    found = []
    for value in values:
        found += [token.strip().lower() for token in value.split(b",") if token.strip()]
    return found


def _gzip(body: bytes) -> "zlib._Decompress":
    return zlib.decompressobj(16 + zlib.MAX_WBITS)


def _deflate(body: bytes) -> "zlib._Decompress":
    """RFC 9110's deflate is the zlib format; a raw deflate stream (what some clients send)
    is told apart by its first two bytes, which never form a zlib header."""
    zlib_header = len(body) >= 2 and body[0] & 0x0F == 8 and (body[0] << 8 | body[1]) % 31 == 0
    return zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)


DECODERS = {b"gzip": _gzip, b"x-gzip": _gzip, b"deflate": _deflate, b"identity": None}


def decoded(body: bytes, codings: Sequence[bytes], limit: int) -> bytes | None:
    """The body with its codings undone, last applied first; None once it passes `limit`."""
    for name in reversed(tokens(codings)):
        make = DECODERS[name]
        if make is None:
            continue
        inflater = make(body)
        try:
            body = inflater.decompress(body, limit + 1)
        except zlib.error as exc:
            raise Undecodable(f"the body is not valid {name.decode()} data ({exc})") from None
        if len(body) > limit or inflater.unconsumed_tail:
            return None
        if not inflater.eof or inflater.unused_data:
            problem = "it is cut short" if not inflater.eof else "bytes follow its end"
            raise Undecodable(f"the body is not valid {name.decode()} data ({problem})")
    return body
