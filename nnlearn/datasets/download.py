"""Downloading data files safely: mirrors, SHA-256, atomic writes, a cache folder.

A :class:`RemoteFile` names a file and the SHA-256 of its bytes. :func:`download`
fetches it from the first mirror that delivers the right bytes::

    for each mirror:
        stream the file into a temporary file beside its destination,
            hashing it on the way (with a progress bar, nnlearn.progress)
        SHA-256 right?  -> rename the temporary file to its real name, done
        wrong, or the connection failed? -> delete the temporary file, next mirror

Renaming is atomic (``os.replace``), so an interrupted or corrupt download
never leaves a file under the real name: what is there has been verified.
:func:`verified` checks a file again each time it is used (a cache hit),
because disks and people corrupt files too.

Where files go: :func:`data_home` — the ``data_dir`` argument if given, else the
environment variable ``NNLEARN_DATA``, else a per-user cache folder
(``~/.cache/nnlearn`` on Linux, ``~/Library/Caches/nnlearn`` on macOS,
``%LOCALAPPDATA%\\nnlearn\\Cache`` on Windows).

Downloads use ``urllib``, which honours the ``HTTPS_PROXY`` / ``HTTP_PROXY`` /
``NO_PROXY`` environment variables.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import sys
import tempfile
import urllib.request
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nnlearn.progress import progress as progress_bar

__all__ = [
    "DATA_VARIABLE",
    "ChecksumError",
    "DownloadError",
    "RemoteFile",
    "data_home",
    "download",
    "sha256_of",
    "verified",
]

DATA_VARIABLE = "NNLEARN_DATA"
CHUNK = 1 << 16  # bytes read per step when streaming and hashing


class DownloadError(OSError):
    """No mirror delivered the file (network errors or wrong bytes from each)."""


class ChecksumError(DownloadError):
    """A file's bytes do not have the expected SHA-256."""


@dataclass(frozen=True)
class RemoteFile:
    """One data file as the mirrors serve it.

    Attributes
    ----------
    name : file name on the mirrors, e.g. ``"train-images-idx3-ubyte.gz"``
    size : its size in bytes
    sha256 : SHA-256 of those bytes (hex)
    content_sha256 : SHA-256 of the *decompressed* content, for ``.gz`` files
        (lets a file re-compressed by someone else, or stored uncompressed
        without ``.gz``, be recognised as the same data); None if not known
    """

    name: str
    size: int
    sha256: str
    content_sha256: str | None = None

    @property
    def stem(self) -> str:
        """The name without ``.gz``: what the file is called once decompressed."""
        return self.name[:-3] if self.name.endswith(".gz") else self.name


# -- where the files live ---------------------------------------------------------------
def data_home(data_dir: str | os.PathLike | None = None) -> Path:
    """The root folder of nnlearn's data: ``data_dir``, else ``$NNLEARN_DATA``, else a per-user cache.

    The folder is not created here (downloading creates it).
    """
    if data_dir is not None:
        return Path(data_dir).expanduser()
    env = os.environ.get(DATA_VARIABLE, "").strip()
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
        return base / "nnlearn" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "nnlearn"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nnlearn"


# -- verification ---------------------------------------------------------------------
def sha256_of(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _content_sha256(path: Path) -> str | None:
    """SHA-256 of a file's content, decompressed if it is gzipped; None if the gzip stream is broken."""
    digest = hashlib.sha256()
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    try:
        with (gzip.open(path, "rb") if gzipped else open(path, "rb")) as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
    except (OSError, EOFError, zlib.error):
        return None
    return digest.hexdigest()


def verified(path: str | os.PathLike, file: RemoteFile) -> bool:
    """True if ``path`` holds ``file``'s data: its bytes have ``file.sha256``, or its
    (decompressed) content has ``file.content_sha256``."""
    path = Path(path)
    if not path.is_file():
        return False
    if path.stat().st_size == file.size and sha256_of(path) == file.sha256:
        return True  # the file exactly as the mirrors serve it: the fast, usual case
    return file.content_sha256 is not None and _content_sha256(path) == file.content_sha256


def find_verified(folder: Path, file: RemoteFile) -> Path | None:
    """The verified copy of ``file`` in ``folder`` (``name.gz`` or decompressed ``name``), or None."""
    for candidate in (folder / file.name, folder / file.stem):
        if verified(candidate, file):
            return candidate
    return None


# -- downloading ----------------------------------------------------------------------
def download(file: RemoteFile, mirrors: Sequence[str], folder: str | os.PathLike,
             progress: bool = True, timeout: float = 30.0) -> Path:
    """Download ``file`` into ``folder`` from the first mirror that serves the right bytes.

    Parameters
    ----------
    file : RemoteFile (name, size, SHA-256)
    mirrors : base URLs, tried in order; the file's URL is ``mirror + file.name``
    folder : destination folder (created if needed)
    progress : show a tqdm progress bar
    timeout : seconds to wait for a connection or for data before giving up on a mirror

    Returns
    -------
    Path of the verified file, ``folder / file.name``.

    Raises
    ------
    ChecksumError if every mirror answered but none with the right bytes;
    DownloadError if some mirror could not be reached (each mirror's error is
    listed). Either way nothing is left under ``folder / file.name`` unless it
    was a verified file already, and no temporary file remains.
    """
    if not mirrors:
        raise ValueError("The 'mirrors' parameter of download must list at least one base URL. Got [] instead.")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / file.name
    failures: list[str] = []
    all_checksums = True
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + file.name
        try:
            _fetch(url, file, target, progress, timeout)
            return target
        except ChecksumError as exc:
            failures.append(f"{url}: {exc}")
        except (OSError, ValueError, http.client.HTTPException) as exc:  # URLError, HTTPError, timeouts, ...
            all_checksums = False
            failures.append(f"{url}: {type(exc).__name__}: {exc}")
    error = ChecksumError if all_checksums else DownloadError
    raise error(f"could not download {file.name}:\n  " + "\n  ".join(failures))


def _fetch(url: str, file: RemoteFile, target: Path, progress: bool, timeout: float) -> None:
    """Stream ``url`` to a temporary file beside ``target``, verify it, rename it to ``target``."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        digest, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response, \
                progress_bar(None, total=file.size, unit="B", unit_scale=True, desc=file.name,
                             disable=not progress, leave=False) as bar:
            announced = response.headers.get("Content-Length")
            while chunk := response.read(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
                bar.update(len(chunk))
        if announced is not None and announced.isdigit() and size < int(announced):
            raise DownloadError(f"the connection closed after {size} of {announced} bytes")
        if size != file.size or digest.hexdigest() != file.sha256:
            # A re-compressed copy of the same content is fine (see RemoteFile.content_sha256).
            if not (file.content_sha256 and _content_sha256(tmp) == file.content_sha256):
                raise ChecksumError(
                    f"wrong bytes: got {size} bytes with SHA-256 {digest.hexdigest()}, "
                    f"expected {file.size} bytes with SHA-256 {file.sha256}"
                )
        os.replace(tmp, target)  # atomic: the real name only ever holds a verified file
    finally:
        tmp.unlink(missing_ok=True)
