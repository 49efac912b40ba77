"""The IDX file format of MNIST: a tiny header, then the raw numbers.

An IDX file is big-endian and holds one array::

    bytes 0-1   0x00 0x00              the magic number starts with two zero bytes
    byte  2     dtype code             0x08 uint8, 0x09 int8, 0x0B int16,
                                       0x0C int32, 0x0D float32, 0x0E float64
    byte  3     ndim                   number of dimensions, >= 1
    then        ndim x uint32          the size of each dimension
    then        prod(dims) numbers     the data, row-major, big-endian

So MNIST's training images start ``00 00 08 03 | 00 00 ea 60 | 00 00 00 1c |
00 00 00 1c`` (uint8, 3-D, 60000 x 28 x 28) and its labels ``00 00 08 01 |
00 00 ea 60`` (uint8, 1-D, 60000). The files are distributed gzipped
(``*-ubyte.gz``); :func:`read_idx` accepts both forms.

Every problem (bad magic, unknown dtype code, a header or data section too
short or too long, a broken gzip stream) raises ``ValueError`` naming the
file and what was wrong.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib

import numpy as np

__all__ = ["IDX_DTYPES", "parse_idx", "read_idx", "to_idx_bytes"]

IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
"""IDX dtype code -> the big-endian NumPy dtype of the stored numbers."""

GZIP_MAGIC = b"\x1f\x8b"


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file into an array.

    Parameters
    ----------
    data : bytes of the whole file
    name : what to call the file in error messages

    Returns
    -------
    ndarray of shape ``dims`` (from the header), in native byte order
    (uint8 for MNIST).

    Raises
    ------
    ValueError if the magic number, dtype code or lengths are wrong.
    """
    data = memoryview(data).cast("B")
    if len(data) < 4:
        raise ValueError(f"{name}: not an IDX file: {len(data)} bytes, shorter than the 4-byte magic number")
    zero0, zero1, code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0:
        raise ValueError(
            f"{name}: not an IDX file: the magic number must start with bytes 00 00; "
            f"got {zero0:02x} {zero1:02x}" + (" (a gzip file: decompress it, or use read_idx)"
                                               if bytes(data[:2]) == GZIP_MAGIC else "")
        )
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{k:02X}" for k in IDX_DTYPES)
        raise ValueError(f"{name}: unknown IDX dtype code 0x{code:02X} (byte 2); expected one of {known}")
    if ndim == 0:
        raise ValueError(f"{name}: the IDX header says 0 dimensions (byte 3); expected at least 1")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise ValueError(
            f"{name}: truncated header: {ndim} dimensions need {header_len} header bytes; "
            f"the file has {len(data)}"
        )
    dims = struct.unpack(f">{ndim}I", data[4:header_len])
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    received = len(data) - header_len
    if received != expected:
        what = "truncated data" if received < expected else "trailing bytes after the data"
        raise ValueError(
            f"{name}: {what}: shape {dims} of {dtype.name} needs {expected} bytes after the "
            f"{header_len}-byte header; the file has {received}"
        )
    out = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(dims)
    return out.astype(dtype.newbyteorder("="))  # a writable copy in native byte order


def read_idx(source: str | os.PathLike | bytes) -> np.ndarray:
    """Read an IDX file, gzipped (``.gz``, detected by its content) or not.

    Parameters
    ----------
    source : path of the file, or its bytes

    Returns
    -------
    ndarray, see :func:`parse_idx`
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, name = bytes(source), "<bytes>"
    else:
        name = os.fspath(source)
        with open(name, "rb") as f:
            data = f.read()
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
            raise ValueError(f"{name}: corrupt gzip stream ({exc}); delete the file and download it again") from exc
    return parse_idx(data, name)


def to_idx_bytes(x: np.ndarray) -> bytes:
    """Encode an array as an IDX file (the inverse of :func:`parse_idx`; for tests and exercises)."""
    x = np.asarray(x)
    codes = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}
    dtype = x.dtype.newbyteorder("=")
    if dtype not in codes:
        raise TypeError(f"to_idx_bytes: dtype {x.dtype} has no IDX code; use one of "
                        f"{[d.name for d in IDX_DTYPES.values()]}")
    if x.ndim == 0 or x.ndim > 255:
        raise ValueError(f"to_idx_bytes: x must have 1 to 255 dimensions; got shape {x.shape}")
    code = codes[dtype]
    header = bytes([0, 0, code, x.ndim]) + struct.pack(f">{x.ndim}I", *x.shape)
    return header + x.astype(IDX_DTYPES[code], copy=False).tobytes()
