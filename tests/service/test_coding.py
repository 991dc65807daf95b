"""Content codings of request bodies (service/api/coding.py): decoded, and bounded."""

import gzip
import zlib

import pytest

from service.api import coding

BODY = b'{"x": [' + b"0.5, " * 200 + b"0.5]}"


@pytest.mark.parametrize(
    ("names", "packed"),
    [
        ([b"gzip"], gzip.compress(BODY)),
        ([b"x-gzip"], gzip.compress(BODY)),
        ([b"deflate"], zlib.compress(BODY)),
        ([b"deflate"], zlib.compress(BODY, wbits=-15)),  # raw deflate, as some clients send
        ([b"identity"], BODY),
        ([b"gzip, deflate"], zlib.compress(gzip.compress(BODY))),  # applied in that order
        ([b"GZIP", b"Deflate"], zlib.compress(gzip.compress(BODY))),  # two lines, any case
    ],
    ids=["gzip", "x-gzip", "deflate", "raw_deflate", "identity", "two_codings", "two_lines"],
)
def test_a_coded_body_decodes_to_the_plain_one(names, packed):
    assert coding.decoded(packed, names, len(BODY)) == BODY


def test_a_body_that_decodes_past_the_limit_is_none():
    assert coding.decoded(gzip.compress(BODY), [b"gzip"], len(BODY) - 1) is None


def test_a_bomb_is_inflated_one_byte_past_the_limit_and_no_further(monkeypatch):
    bomb = gzip.compress(b"\0" * (256 << 20), compresslevel=9)  # 256 MiB in about 250 KiB
    sizes = []
    original = zlib.decompressobj

    class Spy:
        def __init__(self, *args):
            self.inner = original(*args)

        def decompress(self, data, max_length=0):
            out = self.inner.decompress(data, max_length)
            sizes.append(len(out))
            return out

        def __getattr__(self, name):
            return getattr(self.inner, name)

    monkeypatch.setattr(coding.zlib, "decompressobj", Spy)
    assert coding.decoded(bomb, [b"gzip"], 1 << 20) is None
    assert sizes == [(1 << 20) + 1]


@pytest.mark.parametrize(
    ("packed", "problem"),
    [
        (b"not gzip at all", "not valid gzip"),
        (gzip.compress(BODY)[:-12], "cut short"),
        (gzip.compress(BODY) + b"junk", "bytes follow its end"),
    ],
    ids=["garbage", "truncated", "trailing_bytes"],
)
def test_a_body_that_is_not_its_coding_is_undecodable(packed, problem):
    with pytest.raises(coding.Undecodable, match=problem):
        coding.decoded(packed, [b"gzip"], 1 << 20)


def test_tokens_read_every_line_of_a_list_header():
    found = coding.tokens([b"gzip, chunked", b" Deflate ", b","])
    assert found == [b"gzip", b"chunked", b"deflate"]
