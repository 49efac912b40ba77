"""Data augmentation for images: small random shifts and rotations, all images at once.

A digit moved by a pixel or turned by a few degrees is still the same digit.
Training on such copies (a fresh random copy of every image each epoch) shows
the network variation it would otherwise have to see in more data, and is one
of the remedies against overfitting the seed articles list.

:func:`affine` moves every image by its own rotation and shift, by **inverse
mapping**: output pixel p takes the input at

    src = R(-angle) (p - centre - shift) + centre

read by bilinear interpolation between the four pixels around ``src``; what
falls outside the image reads 0 (background). One gather per corner for the
whole batch: no Python loop over images or pixels.
"""

from __future__ import annotations

import numpy as np

from nnlearn.init import RngLike, as_rng
from nnlearn.validation import check_float

__all__ = ["affine", "random_shift_rotate"]

CHUNK = 1024  # images transformed at a time


def affine(x: np.ndarray, angle: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Rotate image n by ``angle[n]`` radians (counter-clockwise) and move it by ``shift[n]``.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    angle : ndarray of shape (N,), radians
    shift : ndarray of shape (N, 2), (rows down, columns right) in pixels

    Returns
    -------
    ndarray of shape (N, C, H, W), dtype of x (float)
    """
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"affine expected images x of shape (N, C, H, W); got shape {x.shape}")
    N = len(x)
    angle = np.asarray(angle, dtype=np.float32).reshape(N)
    shift = np.asarray(shift, dtype=np.float32).reshape(N, 2)
    if N <= CHUNK:
        return _affine(x, angle, shift)
    # Chunks of images keep the temporary arrays small (in cache, no page faults): ~3x faster.
    return np.concatenate([_affine(x[i:i + CHUNK], angle[i:i + CHUNK], shift[i:i + CHUNK])
                           for i in range(0, N, CHUNK)])


def _affine(x: np.ndarray, angle: np.ndarray, shift: np.ndarray) -> np.ndarray:
    N, C, H, W = x.shape
    angle = angle.reshape(N, 1, 1)
    cy, cx = (H - 1) / 2, (W - 1) / 2
    rows, cols = np.meshgrid(np.arange(H, dtype=np.float32), np.arange(W, dtype=np.float32), indexing="ij")
    dy = rows[None] - cy - shift[:, 0, None, None]  # (N, H, W), relative to the moved centre
    dx = cols[None] - cx - shift[:, 1, None, None]  # (N, H, W)
    cos, sin = np.cos(angle), np.sin(angle)
    # Rows grow downwards, so a counter-clockwise turn on screen is R(-angle) in (row, col).
    src_y = cos * dy + sin * dx + cy  # (N, H, W)
    src_x = cos * dx - sin * dy + cx
    y0, x0 = np.floor(src_y), np.floor(src_x)
    wy, wx = (src_y - y0)[:, None], (src_x - x0)[:, None]  # (N, 1, H, W) weights of the far corner
    # Pad with one ring of zeros and clip the corners into it: outside reads 0.
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))  # (N, C, H + 2, W + 2)
    y0 = np.clip(y0.astype(np.int32) + 1, 0, H + 1)
    x0 = np.clip(x0.astype(np.int32) + 1, 0, W + 1)
    y1, x1 = np.minimum(y0 + 1, H + 1), np.minimum(x0 + 1, W + 1)
    flat = padded.reshape(N, C, (H + 2) * (W + 2))  # (N, C, H'W'): one index per pixel

    def at(yy, xx):  # (N, H, W) row and column indices -> (N, C, H, W) pixels
        index = (yy * (W + 2) + xx).reshape(N, 1, H * W)  # (N, 1, HW)
        return np.take_along_axis(flat, index, axis=2).reshape(N, C, H, W)

    top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx
    bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx
    return (top * (1 - wy) + bottom * wy).astype(x.dtype, copy=False)


def random_shift_rotate(x: np.ndarray, rng: RngLike = None, max_shift: float = 2.0,
                        max_degrees: float = 10.0) -> np.ndarray:
    """A random copy of every image: shifted by up to ``max_shift`` pixels and rotated by up to
    ``max_degrees`` (uniform, independent per image).

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W), float
    rng : seed or Generator
    max_shift : float >= 0, pixels along each axis
    max_degrees : float >= 0

    Returns
    -------
    ndarray of shape (N, C, H, W)
    """
    max_shift = check_float(max_shift, "max_shift", "random_shift_rotate", ">= 0")
    max_degrees = check_float(max_degrees, "max_degrees", "random_shift_rotate", ">= 0")
    rng = as_rng(rng)
    N = len(x)
    angle = np.deg2rad(rng.uniform(-max_degrees, max_degrees, N))
    shift = rng.uniform(-max_shift, max_shift, (N, 2))
    return affine(x, angle, shift)
