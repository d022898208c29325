"""Content codings of HTTP bodies: gzip and deflate, decoded as they arrive, within a limit.

The probe sends no Accept-Encoding of its own, as blackbox_exporter does not; a body that comes
compressed all the same (a pre-compressed file, an app that always compresses) is decoded, so
body checks see what the server meant. Other codings (br, zstd...) are left as they came and
fail a check that needs the body, naming the coding.
"""

from __future__ import annotations

import zlib


class Inflater:
    """A gzip or deflate body decoded as it arrives, never past `room` bytes.

    A gzip bomb is a few kilobytes that decode to gigabytes: each call decodes at most what
    is still allowed plus one byte, so finding out costs the limit's worth of memory at most.
    """

    def __init__(self, coding: str, room: int) -> None:
        self.coding, self.room = coding, room
        self._stream: zlib._Decompress | None = None

    def feed(self, data: bytes) -> bytes:
        """The decoded bytes of `data`; zlib.error when it is corrupt, TooLarge past `room`."""
        out = []
        while data:
            if self._stream is None or self._stream.eof:
                if self._stream is not None and self.coding == "deflate":
                    raise zlib.error("data after the end of the deflate stream")
                self._stream = zlib.decompressobj(self._window(data))  # gzip: one more member
            chunk = self._stream.decompress(data, self.room + 1)
            self.room -= len(chunk)
            if self.room < 0:
                raise TooLarge
            out.append(chunk)
            data = self._stream.unconsumed_tail or (
                self._stream.unused_data if self._stream.eof else b""
            )
        return b"".join(out)

    def finish(self) -> None:
        """zlib.error when the body ended before its stream did."""
        if self._stream is not None and not self._stream.eof:
            raise zlib.error(f"the {self.coding} stream is cut short")

    def _window(self, data: bytes) -> int:
        if self.coding == "gzip":
            return 16 + zlib.MAX_WBITS
        # "deflate" means the zlib format (RFC 9110), but some servers send raw deflate.
        zlib_header = len(data) >= 2 and data[0] & 0x0F == 8 and int.from_bytes(data[:2]) % 31 == 0
        return zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS


class TooLarge(Exception):
    """The decoded body grew past its room."""


CODINGS = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate"}


def content_coding(headers: list[tuple[bytes, bytes]]) -> str:
    """The body's content coding(s) as the headers list them, `identity` left out."""
    values = [v.decode("latin-1") for n, v in headers if n.lower() == b"content-encoding"]
    codings = [c.strip().lower() for v in values for c in v.split(",")]
    return ", ".join(c for c in codings if c and c != "identity")
