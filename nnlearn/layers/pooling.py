r"""Pooling: summarise each k x k window of every channel by its maximum or mean.

Pooling has no parameters. It shrinks the feature maps (fewer values for the
next layer to process) and makes the output insensitive to shifts smaller
than the window. The output size follows the convolution formula with
dilation 1: ``H_out = (H + 2p - k) // s + 1``.

The windows are visited by **kernel offsets**: for each of the k·k offsets
(u, v) inside a window, ``x_pad[:, :, u::s, v::s]`` (up to the output size)
is pixel (u, v) of *every* window at once, a strided view; the loop runs over
the k·k offsets only, never over pixels. When the windows tile the image
(stride = kernel, no padding, k divides H and W) these views are exactly
``x.reshape(N, C, H/k, k, W/k, k)[:, :, :, u, :, v]``, and backward writes
each input pixel exactly once. (Reducing that reshaped array with
``.max(axis=(3, 5))`` gives the same numbers but was 15-40x slower here for
LeNet's (128, 6, 28, 28) maps: NumPy reduces short strided axes slowly, while
an element-wise ``np.maximum`` of four views streams through memory.)

Max pooling routes the gradient to the one input that won each window. When a
window holds several equal maxima (ties, common after ReLU: many zeros), the
*first* in row-major order takes all of it, as PyTorch does; splitting it
would also be a valid subgradient, but then results would differ from every
other library.
"""

from __future__ import annotations

import numpy as np

from nnlearn.layers.base import Layer
from nnlearn.layers.conv import _check_fits, _pair, conv_output_size

__all__ = ["AvgPool2D", "GlobalAvgPool2D", "MaxPool2D"]


def _check_batch(x, layer) -> np.ndarray:
    """Raise ValueError unless x is a 4-D (N, C, H, W) batch."""
    if not isinstance(x, np.ndarray):
        x = np.asarray(x)
    if x.ndim != 4:
        hint = " — (N, H, W) images need a channel axis: x[:, None]" if x.ndim == 3 else ""
        raise ValueError(f"{layer!r} expected a 4-D input of shape (N, C, H, W); "
                         f"got shape {x.shape} ({x.ndim}-D){hint}")
    return x


def _same_layout(a: np.ndarray, like: np.ndarray) -> np.ndarray:
    """A copy of ``a`` stored in the memory order of ``like`` (same shape)."""
    out = np.empty_like(like, dtype=a.dtype)
    out[...] = a
    return out


class _Pool2D(Layer):
    """Shared bookkeeping of MaxPool2D and AvgPool2D: sizes, padding, the window offsets."""

    pad_value = 0.0

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = _pair(kernel_size, "kernel_size", name)
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride", name)
        self.padding = _pair(padding, "padding", name, low=0)
        for p, k in zip(self.padding, self.kernel_size, strict=True):
            if p > k // 2:  # otherwise some windows would see padding only
                raise ValueError(f"The 'padding' parameter of {name} must be at most half the "
                                 f"kernel size {self.kernel_size}. Got {padding!r} instead.")

    def _setup(self, x: np.ndarray) -> tuple[np.ndarray, bool]:
        """Check x, pad it if needed; return (x_pad, whether the windows tile it exactly)."""
        x = _check_batch(x, self)
        (kh, kw), (s_h, s_w), (p_h, p_w) = self.kernel_size, self.stride, self.padding
        N, C, H, W = x.shape
        _check_fits((H, W), (p_h, p_h, p_w, p_w), self.kernel_size, (1, 1), self)
        self.x_shape = x.shape
        self.out_hw = (conv_output_size(H, kh, s_h, p_h), conv_output_size(W, kw, s_w, p_w))
        tiles = (s_h, s_w) == (kh, kw) and (p_h, p_w) == (0, 0) and H % kh == 0 and W % kw == 0
        if p_h or p_w:
            x = np.pad(x, ((0, 0), (0, 0), (p_h, p_h), (p_w, p_w)), constant_values=self.pad_value)
        return x, tiles

    def _offsets(self):
        """Yield (u, v, (rows, cols)): the slices of x_pad holding pixel (u, v) of every window."""
        (kh, kw), (s_h, s_w), (H_out, W_out) = self.kernel_size, self.stride, self.out_hw
        for u in range(kh):
            for v in range(kw):
                yield u, v, (slice(u, u + s_h * (H_out - 1) + 1, s_h),
                             slice(v, v + s_w * (W_out - 1) + 1, s_w))

    def _unpad(self, dx_pad: np.ndarray) -> np.ndarray:
        (p_h, p_w), (H, W) = self.padding, self.x_shape[2:]
        return dx_pad[:, :, p_h:p_h + H, p_w:p_w + W]  # (N, C, H, W)

    def __repr__(self) -> str:
        (kh, kw), extra = self.kernel_size, ""
        if self.stride != self.kernel_size:
            extra += f", stride={self.stride}"
        if self.padding != (0, 0):
            extra += f", padding={self.padding}"
        return f"{type(self).__name__}({kh}x{kw}{extra})"


class MaxPool2D(_Pool2D):
    r"""Maximum over each window: ``out[n, c, i, j] = max_{u,v} x_pad[n, c, i s + u, j s + v]``.

    Backward sends ``dout[n, c, i, j]`` to the input that held the maximum (the
    first one in row-major window order if several tie, as in PyTorch); every
    other input of the window gets 0. Padding (at most half the kernel) is
    -inf, so it never wins.

    Shapes: x (N, C, H, W), out (N, C, H_out, W_out).

    Parameters
    ----------
    kernel_size : int or (kh, kw)
    stride : int, (s_h, s_w) or None (= kernel_size, non-overlapping windows)
    padding : int or (p_h, p_w)
    """

    pad_value = -np.inf

    def forward(self, x: np.ndarray) -> np.ndarray:
        x_pad, self.tiles = self._setup(x)
        out = None
        for _, _, (rows, cols) in self._offsets():
            value = x_pad[:, :, rows, cols]  # (N, C, Ho, Wo): pixel (u, v) of every window
            if out is None:
                out = value.copy(order="K")  # "K": keep x's memory layout, so the ops below stream
            else:
                np.maximum(out, value, out=out)
        self.x_pad, self.out = x_pad, out  # backward finds the winners by comparing the two
        return out

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray:
        x_pad, out = self.x_pad, self.out
        # empty is enough when the windows tile the input: every pixel is written exactly once
        dx_pad = (np.empty_like if self.tiles else np.zeros_like)(x_pad, dtype=dout.dtype)
        if dout.strides != out.strides:  # e.g. from Flatten: reorder once, so every op below streams
            dout = _same_layout(dout, out)
        free = np.ones_like(out, dtype=bool)  # (N, C, Ho, Wo): window not yet assigned a winner
        # Offsets in row-major order: the first input equal to the maximum wins, later ties don't.
        for _, _, (rows, cols) in self._offsets():
            won = np.equal(x_pad[:, :, rows, cols], out)  # (N, C, Ho, Wo)
            won &= free
            free ^= won
            won = won.view(np.uint8)  # a 0/1 factor; multiplying by uint8 is ~2x faster than by bool
            if self.tiles:
                np.multiply(dout, won, out=dx_pad[:, :, rows, cols])
            else:  # overlapping windows: one input may win several, its gradients add up
                dx_pad[:, :, rows, cols] += dout * won
        return self._unpad(dx_pad)


class AvgPool2D(_Pool2D):
    r"""Mean over each window: ``out[n, c, i, j] = mean_{u,v} x_pad[n, c, i s + u, j s + v]``.

    Backward spreads ``dout[n, c, i, j] / (kh kw)`` evenly over the window.
    Zero padding counts towards the mean (PyTorch's default ``count_include_pad``).

    Shapes: x (N, C, H, W), out (N, C, H_out, W_out).

    Parameters
    ----------
    kernel_size : int or (kh, kw)
    stride : int, (s_h, s_w) or None (= kernel_size)
    padding : int or (p_h, p_w)
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        x_pad, self.tiles = self._setup(x)
        kh, kw = self.kernel_size
        self.x_pad_shape = x_pad.shape
        out = None
        for _, _, (rows, cols) in self._offsets():
            value = x_pad[:, :, rows, cols]  # (N, C, Ho, Wo): pixel (u, v) of every window
            if out is None:
                out = value.copy(order="K")
            else:
                out += value
        out *= 1.0 / (kh * kw)
        return out

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray:
        kh, kw = self.kernel_size
        share = dout * (1.0 / (kh * kw))  # (N, C, Ho, Wo): each input of a window gets this much
        dx_pad = (np.empty if self.tiles else np.zeros)(self.x_pad_shape, dtype=dout.dtype)
        for _, _, (rows, cols) in self._offsets():
            if self.tiles:  # every input in exactly one window
                dx_pad[:, :, rows, cols] = share
            else:
                dx_pad[:, :, rows, cols] += share
        return self._unpad(dx_pad)


class GlobalAvgPool2D(Layer):
    r"""Mean of each whole feature map: (N, C, H, W) -> (N, C).

    .. math::  out[n, c] = \frac{1}{H W} \sum_{i, j} x[n, c, i, j], \qquad
               dx[n, c, i, j] = \frac{dout[n, c]}{H W}

    Replaces Flatten + a large Dense layer at the end of modern CNNs: one
    number per channel, whatever the image size.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = _check_batch(x, self)
        self.x_shape = x.shape
        return x.mean(axis=(2, 3))  # (N, C, H, W) -> (N, C)

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray:
        N, C, H, W = self.x_shape
        share = dout / (H * W)  # (N, C)
        return np.broadcast_to(share[:, :, None, None], self.x_shape).copy()  # (N, C, H, W)
