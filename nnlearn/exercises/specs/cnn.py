"""Exercises of lesson 05_cnn: output sizes, convolution by loops and by im2col, its backward
pass, and max pooling.

The references call nnlearn (``conv_output_size``, ``im2col``, ``Conv2D``, ``MaxPool2D``), so
every exercise is checked against the library's own implementation.
"""

from __future__ import annotations

import numpy as np

from nnlearn.exercises.registry import Exercise, register
from nnlearn.layers import Conv2D, MaxPool2D
from nnlearn.layers.conv import conv_output_size as _library_output_size
from nnlearn.layers.conv import im2col as _library_im2col


def _size(rng: np.random.Generator, low: int, high: int) -> int:
    return int(rng.integers(low, high + 1))


def _conv_with(w: np.ndarray, b: np.ndarray | None, stride: int, padding: int) -> Conv2D:
    """An nnlearn Conv2D in float64 holding the given filters (and bias)."""
    F, C, kh, kw = w.shape
    layer = Conv2D(C, F, (kh, kw), stride=stride, padding=padding, bias=b is not None, rng=0)
    layer.astype(np.float64)
    layer.params["w"][...] = w
    if b is not None:
        layer.params["b"][...] = b
    return layer


# -- 5.1 conv_output_size ----------------------------------------------------------------------
def _output_size_cases(rng: np.random.Generator) -> list[dict]:
    cases = [
        {"size": 28, "kernel": 5, "stride": 1, "padding": 0, "dilation": 1},  # LeNet's C1 without padding
        {"size": 28, "kernel": 5, "stride": 1, "padding": 2, "dilation": 1},  # 'same'
        {"size": 7, "kernel": 3, "stride": 3, "padding": 0, "dilation": 1},  # the floor drops a window
        {"size": 9, "kernel": 3, "stride": 1, "padding": 0, "dilation": 2},  # a dilated kernel spans 5
    ]
    for _ in range(2):
        kernel, dilation, stride = _size(rng, 1, 5), _size(rng, 1, 3), _size(rng, 1, 3)
        padding = _size(rng, 0, 2)
        size = _size(rng, max(1, dilation * (kernel - 1) + 1 - 2 * padding), 40)
        cases.append({"size": size, "kernel": kernel, "stride": stride, "padding": padding,
                      "dilation": dilation})  # fmt: skip
    return cases


def _output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    return _library_output_size(size, kernel, stride, padding, dilation)


# -- 5.2 conv2d_naive ---------------------------------------------------------------------------
def _conv_cases(rng: np.random.Generator, with_bias: bool = True) -> list[dict]:
    cases = []
    shapes = [  # (N, C, H, W, F, kh, kw, stride, padding)
        (1, 1, 5, 5, 1, 3, 3, 1, 0),
        (2, 3, 6, 5, 4, 3, 3, 1, 1),
        (_size(rng, 1, 3), 2, _size(rng, 6, 9), _size(rng, 6, 9), 3, 3, 3, 2, 1),
        (2, _size(rng, 1, 3), 7, 7, 2, 2, 3, 1, 0),  # a rectangular kernel
        (3, 2, 4, 4, 5, 1, 1, 1, 0),  # a 1x1 convolution
    ]
    for N, C, H, W, F, kh, kw, stride, padding in shapes:
        case = {"x": rng.standard_normal((N, C, H, W)), "w": rng.standard_normal((F, C, kh, kw))}
        if with_bias:
            case["b"] = rng.standard_normal(F)
        case.update({"stride": stride, "padding": padding})
        cases.append(case)
    return cases


def _conv_naive(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, padding: int) -> np.ndarray:
    return _conv_with(w, b, stride, padding).forward(x).copy()


# -- 5.3 im2col -------------------------------------------------------------------------------
def _im2col_cases(rng: np.random.Generator) -> list[dict]:
    cases = [{"x": np.arange(16.0).reshape(1, 1, 4, 4), "kh": 2, "kw": 2, "stride": 1, "padding": 0}]
    for N, C, H, W, kh, kw, stride, padding in [
        (2, 3, 5, 4, 3, 3, 1, 1),
        (_size(rng, 1, 3), 2, _size(rng, 5, 8), _size(rng, 5, 8), 3, 2, 2, 0),
        (1, _size(rng, 1, 4), 6, 6, 2, 2, 2, 1),
    ]:
        cases.append({"x": rng.standard_normal((N, C, H, W)), "kh": kh, "kw": kw, "stride": stride,
                      "padding": padding})  # fmt: skip
    return cases


def _im2col(x: np.ndarray, kh: int, kw: int, stride: int, padding: int) -> np.ndarray:
    N, C, H, W = x.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    cols = _library_im2col(x_pad, (kh, kw), (stride, stride))  # columns ordered (i, j, n)
    H_out = _library_output_size(H, kh, stride, padding)
    W_out = _library_output_size(W, kw, stride, padding)
    # the exercise orders the columns (n, i, j), the way the lesson introduces them
    return cols.reshape(C * kh * kw, H_out, W_out, N).transpose(0, 3, 1, 2).reshape(C * kh * kw, -1)


# -- 5.4 conv2d_backward -------------------------------------------------------------------------
def _backward_cases(rng: np.random.Generator) -> list[dict]:
    cases = []
    for case in _conv_cases(rng, with_bias=False):
        N, _, H, W = case["x"].shape
        F, _, kh, kw = case["w"].shape
        s, p = case["stride"], case["padding"]
        shape = (N, F, _library_output_size(H, kh, s, p), _library_output_size(W, kw, s, p))
        cases.append({"dout": rng.standard_normal(shape), **case})
    return cases


def _conv_backward(dout: np.ndarray, x: np.ndarray, w: np.ndarray, stride: int, padding: int) -> tuple:
    layer = _conv_with(w, np.zeros(w.shape[0]), stride, padding)
    layer.forward(x)
    dx = layer.backward(dout)
    return np.array(dx), layer.grads["w"].copy(), layer.grads["b"].copy()


# -- 5.5 / 5.6 max pooling -------------------------------------------------------------------------
def _pool_inputs(rng: np.random.Generator) -> list[dict]:
    """Inputs with ties: coarse values after a ReLU, so many windows hold equal maxima (zeros)."""
    ties = np.maximum(np.round(rng.standard_normal((2, 2, 6, 6)) * 2) / 2, 0)
    ties[0, 0, :2, :2] = 1.5  # a window where all four tie
    cases = [
        {"x": rng.standard_normal((1, 1, 4, 4)), "pool": 2, "stride": 2},
        {"x": ties, "pool": 2, "stride": 2},
        {"x": rng.standard_normal((_size(rng, 1, 3), 3, 7, 5)), "pool": 2, "stride": 2},  # odd: last row dropped
        {"x": np.round(rng.standard_normal((2, 1, 6, 6))), "pool": 3, "stride": 1},  # overlapping, ties
        {"x": rng.standard_normal((1, 2, _size(rng, 5, 9), _size(rng, 5, 9))), "pool": 3, "stride": 2},
    ]
    return cases


def _maxpool_forward_cases(rng: np.random.Generator) -> list[dict]:
    return _pool_inputs(rng)


def _maxpool_forward(x: np.ndarray, pool: int, stride: int) -> np.ndarray:
    return MaxPool2D(pool, stride).forward(x).copy()


def _maxpool_backward_cases(rng: np.random.Generator) -> list[dict]:
    cases = []
    for case in _pool_inputs(rng):
        out = _maxpool_forward(**case)
        cases.append({"dout": rng.standard_normal(out.shape), **case})
    return cases


def _maxpool_backward(dout: np.ndarray, x: np.ndarray, pool: int, stride: int) -> np.ndarray:
    layer = MaxPool2D(pool, stride)
    layer.forward(x)
    return np.array(layer.backward(dout))


register(
    Exercise(
        id="cnn.conv_output_size",
        title="return the output length (size + 2 padding - dilation (kernel - 1) - 1) // stride + 1",
        make_cases=_output_size_cases,
        reference=_output_size,
        hint="A dilated kernel spans dilation * (kernel - 1) + 1 pixels; count how many positions "
        "it fits into the padded length, moving stride pixels at a time (use integer division).",
    ),
    Exercise(
        id="cnn.conv2d_naive",
        title="convolve x with the filters w (plus bias b) by nested loops",
        make_cases=_conv_cases,
        reference=_conv_naive,
        hint="Pad x with zeros first (np.pad on the last two axes only). out[n, f, i, j] is "
        "sum(patch * w[f]) + b[f], where the patch starts at row i * stride and column j * stride "
        "and has the kernel's shape (C, kh, kw). kh and kw may differ.",
    ),
    Exercise(
        id="cnn.im2col",
        title="return every (C, kh, kw) patch of the padded x as a column of a (C*kh*kw, N*H_out*W_out) matrix",
        make_cases=_im2col_cases,
        reference=_im2col,
        hint="Row index = (c, u, v) in that order, column index = (n, i, j) in that order. For one "
        "kernel offset (u, v), x_pad[:, :, u:u + stride*H_out:stride, v:v + stride*W_out:stride] "
        "holds that pixel of every patch; collect them in an array (C, kh, kw, N, H_out, W_out) "
        "and reshape.",
    ),
    Exercise(
        id="cnn.conv2d_backward",
        title="return dx, dw and db of the convolution out = conv(x, w) + b",
        make_cases=_backward_cases,
        reference=_conv_backward,
        output_names=("dx", "dw", "db"),
        hint="db sums dout over every axis but the filters. Each output pixel out[n, f, i, j] used "
        "one patch of x_pad and the filter w[f]: it adds dout[n, f, i, j] * patch to dw[f] and "
        "dout[n, f, i, j] * w[f] onto that patch of dx_pad (patches overlap: add, don't assign). "
        "Crop the padding off dx_pad at the end.",
    ),
    Exercise(
        id="cnn.maxpool_forward",
        title="return the maximum of every pool x pool window, moving by stride",
        make_cases=_maxpool_forward_cases,
        reference=_maxpool_forward,
        hint="H_out = (H - pool) // stride + 1 (no padding). Window (i, j) covers rows "
        "i*stride .. i*stride + pool - 1 and the same for the columns.",
    ),
    Exercise(
        id="cnn.maxpool_backward",
        title="send each dout to the input that won its window (the first of tied maxima)",
        make_cases=_maxpool_backward_cases,
        reference=_maxpool_backward,
        hint="For every window, find the position of its maximum with np.argmax on the flattened "
        "window (argmax returns the first of equal values, in row-major order, as PyTorch does) "
        "and add dout there; everything else gets 0. Overlapping windows (stride < pool) may "
        "share a winner: add, don't assign.",
    ),
)
