"""Vectorized, deterministic text formatting (Arrow compute kernels) and deterministic gzip."""

from __future__ import annotations

import zlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

try:  # ISA-L's deflate (package isal) is ~6x faster than zlib at a better ratio than zlib level 1
    import isal
    from isal import isal_zlib as _deflate

    CODEC = f"isal {isal.__version__}"
    GZIP_LEVEL = 1  # transactions, customers, truth
    GZIP_LEVEL_EVENTS = 1  # clickstream
except ImportError:  # pragma: no cover - depends on the environment
    _deflate = zlib
    CODEC = f"zlib {zlib.ZLIB_RUNTIME_VERSION}"
    GZIP_LEVEL = 6
    GZIP_LEVEL_EVENTS = 1  # the bulk of the bytes: level 1 is ~2x faster than 6, ~15% larger

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def gzip_bytes(data: bytes | memoryview, level: int = GZIP_LEVEL) -> bytes:
    """gzip with a fixed header: mtime 0, no file name (output depends on CODEC, recorded in the manifest)."""
    comp = _deflate.compressobj(level, _deflate.DEFLATED, 31)
    return comp.compress(data) + comp.flush()


class GzipStream:
    """Streams chunks into one deterministic gzip file (same header as gzip_bytes)."""

    def __init__(self, path, level: int = GZIP_LEVEL):
        self._f = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._c = _deflate.compressobj(level, _deflate.DEFLATED, 31)

    def write(self, data: bytes | memoryview) -> None:
        self._f.write(self._c.compress(data))

    def close(self) -> None:
        self._f.write(self._c.flush())
        self._f.close()


def strings(values, idx: np.ndarray) -> pa.Array:
    """values[idx] as an Arrow string array (values: a short vocabulary)."""
    return pa.array(list(values), type=pa.string()).take(pa.array(np.asarray(idx, dtype=np.int64)))


def int_str(x: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(x, dtype=np.int64)), pa.string())


def fixed(scaled: np.ndarray, decimals: int) -> pa.Array:
    """Integers holding value * 10**decimals formatted as decimals, e.g. (-1250, 2) -> "-12.50"."""
    scaled = np.asarray(scaled, dtype=np.int64)
    unit = 10**decimals
    mag = np.abs(scaled)
    whole = int_str(mag // unit)
    frac = pc.utf8_lpad(int_str(mag % unit), decimals, "0")
    sign = pa.array(np.where(scaled < 0, "-", ""), type=pa.string())
    return pc.binary_join_element_wise(pc.binary_join_element_wise(sign, whole, ""), frac, ".")


def ts_seconds(epoch_s: np.ndarray) -> pa.Array:
    """Epoch seconds -> 'YYYY-MM-DD HH:MM:SS' (UTC)."""
    return pc.cast(pa.array(np.asarray(epoch_s, dtype=np.int64)).cast(pa.timestamp("s")), pa.string())


def ts_iso_ms(epoch_ms: np.ndarray) -> pa.Array:
    """Epoch milliseconds -> 'YYYY-MM-DDTHH:MM:SS.mmmZ' (UTC)."""
    s = pc.cast(pa.array(np.asarray(epoch_ms, dtype=np.int64)).cast(pa.timestamp("ms")), pa.string())
    return pc.binary_join_element_wise(pc.replace_substring(s, " ", "T", max_replacements=1), "Z", "")


def hex_ids(rng: np.random.Generator, n: int, nbytes: int, uuid: bool = False) -> pa.Array:
    """Random hex identifiers; with uuid=True, RFC 4122 version-4 UUID strings."""
    raw = rng.integers(0, 256, size=(n, nbytes), dtype=np.uint8)
    if uuid:
        raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
        raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    chars = np.empty((n, nbytes * 2), dtype=np.uint8)
    chars[:, 0::2] = _HEX[raw >> 4]
    chars[:, 1::2] = _HEX[raw & 0x0F]
    if uuid:
        out = np.full((n, 36), ord("-"), dtype=np.uint8)
        out[:, 0:8] = chars[:, 0:8]
        out[:, 9:13] = chars[:, 8:12]
        out[:, 14:18] = chars[:, 12:16]
        out[:, 19:23] = chars[:, 16:20]
        out[:, 24:36] = chars[:, 20:32]
        chars = out
    return fixed_width(chars)


def fixed_width(chars: np.ndarray) -> pa.Array:
    """An (n, w) uint8 array of ASCII characters -> Arrow string array of n strings of width w."""
    n, w = chars.shape
    offsets = pa.py_buffer((np.arange(n + 1, dtype=np.int32) * w).tobytes())
    data = pa.py_buffer(np.ascontiguousarray(chars).tobytes())
    return pa.Array.from_buffers(pa.string(), n, [None, offsets, data])


def join(parts: list, sep: str = "") -> pa.Array:
    """Element-wise concatenation of string arrays/scalars (None entries in arrays -> empty)."""
    return pc.binary_join_element_wise(*parts, sep, null_handling="replace", null_replacement="")


def text_bytes(lines: pa.Array | pa.ChunkedArray) -> bytes:
    """The concatenated UTF-8 bytes of a string array (each element already ends with a newline)."""
    if isinstance(lines, pa.ChunkedArray):
        return b"".join(text_bytes(c) for c in lines.chunks)
    if len(lines) == 0:
        return b""
    if lines.null_count:
        raise ValueError("text lines contain nulls")
    width = 8 if pa.types.is_large_string(lines.type) else 4
    dtype = np.int64 if width == 8 else np.int32
    offs = np.frombuffer(lines.buffers()[1], dtype=dtype, count=lines.offset + len(lines) + 1)
    lo, hi = int(offs[lines.offset]), int(offs[lines.offset + len(lines)])
    return bytes(memoryview(lines.buffers()[2])[lo:hi])
