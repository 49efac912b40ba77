"""Batch normalisation."""

from __future__ import annotations

import numpy as np

from nnlearn.layers.base import Layer
from nnlearn.validation import check_float, check_int


class BatchNorm(Layer):
    r"""Batch normalisation over every axis except the feature axis 1.

    Works for (N, D) activations and, per channel, for (N, C, H, W) images.
    In training mode, with batch mean and (biased) variance per feature:

    .. math::
        \hat x = \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}}, \qquad
        out = \gamma \hat x + \beta

    and running estimates are updated for evaluation
    (``running = (1 - momentum) * running + momentum * batch``, with the
    unbiased variance, as PyTorch does). In evaluation mode the running
    statistics replace the batch ones, so a single sample gets the same output
    whatever batch it is in.

    Backward (training mode), with M = number of values per feature and
    :math:`g = dout \cdot \gamma`:

    .. math::
        dx = \frac{1}{M \sqrt{\sigma_B^2+\epsilon}}
             \left(M g - \textstyle\sum g - \hat x \sum g \hat x\right), \quad
        d\gamma = \textstyle\sum dout\, \hat x, \quad d\beta = \textstyle\sum dout
    """

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5,
                 dtype=np.float32) -> None:
        super().__init__()
        self.num_features = check_int(num_features, "num_features", "BatchNorm")
        self.momentum = check_float(momentum, "momentum", "BatchNorm", "in (0, 1)")
        self.eps = float(eps)
        self.params = {"gamma": np.ones(num_features, dtype), "beta": np.zeros(num_features, dtype)}
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        self.buffers = {"running_mean": np.zeros(num_features, dtype),
                        "running_var": np.ones(num_features, dtype)}

    def reset_parameters(self, rng: np.random.Generator) -> None:
        self.params["gamma"][...] = 1
        self.params["beta"][...] = 0
        self.buffers["running_mean"][...] = 0
        self.buffers["running_var"][...] = 1

    def _axes_and_shape(self, x: np.ndarray) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Axes to reduce over, and the shape that broadcasts a (C,) vector against x."""
        if x.ndim < 2 or x.shape[1] != self.num_features:
            raise ValueError(
                f"{self!r} expected input of shape (N, {self.num_features}) or "
                f"(N, {self.num_features}, H, W); got {x.shape}"
            )
        axes = (0,) + tuple(range(2, x.ndim))  # every axis but the features
        shape = (1, self.num_features) + (1,) * (x.ndim - 2)  # (1, C) or (1, C, 1, 1)
        return axes, shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        axes, shape = self._axes_and_shape(x)
        gamma = self.params["gamma"].reshape(shape)
        beta = self.params["beta"].reshape(shape)
        if self.training:
            count = x.size // self.num_features  # M values per feature
            if count < 2:
                raise ValueError(
                    f"{self!r} needs more than one value per feature in training mode "
                    f"to estimate a variance; got input of shape {x.shape}"
                )
            mean = x.mean(axis=axes)  # (C,)
            var = x.var(axis=axes)  # (C,), biased: divides by M
            m = self.momentum
            self.buffers["running_mean"] *= 1 - m
            self.buffers["running_mean"] += m * mean
            self.buffers["running_var"] *= 1 - m
            self.buffers["running_var"] += m * var * count / (count - 1)  # unbiased
        else:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
        self.inv_std = 1.0 / np.sqrt(var + self.eps)  # (C,)
        self.x_hat = (x - mean.reshape(shape)) * self.inv_std.reshape(shape)  # like x
        return gamma * self.x_hat + beta

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray:
        axes, shape = self._axes_and_shape(dout)
        self.grads["gamma"][...] = (dout * self.x_hat).sum(axis=axes)
        self.grads["beta"][...] = dout.sum(axis=axes)
        g = dout * self.params["gamma"].reshape(shape)  # dL/d(x_hat)
        inv_std = self.inv_std.reshape(shape)
        if not self.training:  # running statistics are constants
            return g * inv_std
        count = dout.size // self.num_features
        sum_g = g.sum(axis=axes).reshape(shape)
        sum_g_xhat = (g * self.x_hat).sum(axis=axes).reshape(shape)
        return (inv_std / count) * (count * g - sum_g - self.x_hat * sum_g_xhat)

    def __repr__(self) -> str:
        return f"BatchNorm({self.num_features})"


class LayerNorm(Layer):
    r"""Layer normalisation: each sample (each position of a sequence) normalised on its own.

    Over the last axis, of size D (the features of one position):

    .. math::
        \mu = \frac1D \sum_i x_i, \quad \sigma^2 = \frac1D \sum_i (x_i - \mu)^2, \quad
        \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}, \quad out = \gamma \hat x + \beta

    Unlike :class:`BatchNorm` nothing is averaged over the batch, so training
    and evaluation behave the same and there are no running statistics; this
    is what Transformers use. Backward, with :math:`g = dout \cdot \gamma` and
    sums over the last axis:

    .. math::
        dx = \frac{1}{D\sqrt{\sigma^2+\epsilon}}
             \left(D g - \textstyle\sum g - \hat x \sum g \hat x\right), \quad
        d\gamma = \textstyle\sum_{\text{positions}} dout\, \hat x, \quad
        d\beta = \textstyle\sum_{\text{positions}} dout

    Shapes: x (..., D), e.g. (N, T, D); gamma, beta (D,). Same as
    ``torch.nn.LayerNorm(D, eps=1e-5)``.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, dtype=np.float32) -> None:
        super().__init__()
        self.num_features = check_int(num_features, "num_features", "LayerNorm")
        self.eps = check_float(eps, "eps", "LayerNorm")
        self.params = {"gamma": np.ones(num_features, dtype), "beta": np.zeros(num_features, dtype)}
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}

    def reset_parameters(self, rng: np.random.Generator) -> None:
        self.params["gamma"][...] = 1
        self.params["beta"][...] = 0

    def forward(self, x: np.ndarray) -> np.ndarray:
        if x.ndim < 2 or x.shape[-1] != self.num_features:
            raise ValueError(f"{self!r} expected input of shape (N, ..., {self.num_features}); "
                             f"got {x.shape}")
        x_hat = x - x.mean(axis=-1, keepdims=True)  # (..., D), centred
        var = np.einsum("...i,...i->...", x_hat, x_hat)[..., None] / self.num_features  # (..., 1)
        self.inv_std = 1.0 / np.sqrt(var + self.eps)  # (..., 1)
        x_hat *= self.inv_std  # in place: one (..., D) array for x_hat
        self.x_hat = x_hat
        out = x_hat * self.params["gamma"]  # (..., D) * (D,)
        out += self.params["beta"]
        return out

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        D = self.num_features
        dout2 = dout.reshape(-1, D)  # (N*T, D)
        x_hat2 = self.x_hat.reshape(-1, D)
        np.einsum("ni,ni->i", dout2, x_hat2, out=self.grads["gamma"])  # sum over positions
        np.sum(dout2, axis=0, out=self.grads["beta"])
        if not need_dx:
            return None
        g = dout * self.params["gamma"]  # dL/d(x_hat), (..., D)
        sum_g = g.sum(axis=-1, keepdims=True)  # (..., 1)
        sum_g_xhat = np.einsum("...i,...i->...", g, self.x_hat)[..., None]  # (..., 1)
        g *= D
        g -= sum_g
        g -= self.x_hat * sum_g_xhat
        g *= self.inv_std / D
        return g  # dx = inv_std / D * (D g - sum g - x_hat sum g x_hat)

    def __repr__(self) -> str:
        return f"LayerNorm({self.num_features})"
