"""Loss functions: how wrong is the network, and in which direction should it move?

Every loss follows one small contract, like a layer without parameters::

    value = loss(out, y)      # a Python float: the loss averaged over the batch
    dout  = loss.backward()   # dL/d(out), same shape and dtype as out

``backward`` takes no argument because the loss is the *end* of the network:
the upstream gradient dL/dL is 1. The gradient is that of the **mean** loss,
so it carries a factor 1/N (N = batch size): doubling the batch does not
double the step size.

Which loss goes with which output layer:

==============================  =============================  ====================
task                            network output ``out``         loss
==============================  =============================  ====================
regression                      any real numbers               :class:`MSE`
binary classification           probabilities (after sigmoid)  :class:`BinaryCrossEntropy`
binary classification           logits (no sigmoid)            :class:`BinaryCrossEntropyWithLogits`
multi-class classification      logits (N, C) (no softmax)     :class:`SoftmaxCrossEntropy`
==============================  =============================  ====================

The "with logits" versions fold the sigmoid / softmax into the loss. That is
both faster and numerically safer: the combined gradient is simply
``(probabilities - targets) / N``, and no log of a rounded-to-zero
probability is ever taken. Prefer them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from nnlearn.activations import sigmoid

__all__ = [
    "Loss",
    "MSE",
    "BinaryCrossEntropy",
    "BinaryCrossEntropyWithLogits",
    "SoftmaxCrossEntropy",
]


# -- input checks shared by the losses ------------------------------------------
def _as_output(name: str, out: ArrayLike) -> np.ndarray:
    """The network output as a float array with a batch axis (ints become float64)."""
    out = np.asarray(out)
    if out.dtype.kind not in "biuf":
        raise TypeError(f"{name} expected out to be a numeric array; got dtype {out.dtype}")
    if out.dtype.kind != "f":
        out = out.astype(np.float64)
    if out.ndim == 0 or out.shape[0] == 0:
        raise ValueError(
            f"{name} expected out with a non-empty batch axis, e.g. shape (N,) or (N, D); "
            f"got shape {out.shape}"
        )
    return out


def _match_shape(name: str, out: np.ndarray, y: ArrayLike) -> np.ndarray:
    """Return targets ``y`` with the shape of ``out`` as a float array of out's dtype.

    (N,) and (N, 1) are accepted for each other (a column of outputs against a
    vector of targets); anything else must match exactly. We never broadcast:
    (N, 1) - (N,) would silently make an (N, N) matrix.
    """
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"{name} expected y to be a numeric array; got dtype {y.dtype}")
    if y.shape != out.shape:
        N = out.shape[0]
        columns = {(N,), (N, 1)}
        if not (out.shape in columns and y.shape in columns):
            raise ValueError(
                f"{name} expected y of the same shape as out {out.shape}; got {y.shape}"
            )
        y = y.reshape(out.shape)
    return y.astype(out.dtype, copy=False)


def _check_in_unit_interval(name: str, what: str, a: np.ndarray, hint: str = "") -> None:
    """Raise ValueError unless every entry of ``a`` lies in [0, 1] (NaN fails too)."""
    lo, hi = a.min(), a.max()
    if not (lo >= 0 and hi <= 1):
        raise ValueError(
            f"{name} expected {what} in [0, 1]; got values in [{lo:.4g}, {hi:.4g}]{hint}"
        )


def _binary_targets(name: str, out: np.ndarray, y: ArrayLike) -> np.ndarray:
    """Targets of a binary cross-entropy: out's shape, every entry in [0, 1]."""
    y = _match_shape(name, out, y)
    _check_in_unit_interval(name, "targets y (labels 0/1 or probabilities)", y)
    return y


class Loss:
    """Base class: ``forward(out, y) -> float`` and ``backward() -> dout``.

    Subclasses keep in ``self._cache`` what ``backward`` needs. ``loss(out, y)``
    is the same as ``loss.forward(out, y)``.
    """

    def __init__(self) -> None:
        self._cache: tuple | None = None

    def forward(self, out: ArrayLike, y: ArrayLike) -> float:
        """Return the loss of predictions ``out`` against targets ``y``, averaged over the batch."""
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self) -> np.ndarray:
        """Return dL/d(out) for the last ``forward`` call (shape and dtype of ``out``)."""
        raise NotImplementedError(f"{type(self).__name__}.backward")

    def _targets(self, out: np.ndarray, y: ArrayLike) -> np.ndarray:
        """Check targets ``y`` against outputs ``out``; return them as the loss uses them.

        The base class accepts any ``y``; the losses below check shapes and values.
        """
        return np.asarray(y)

    def check_targets(self, y: ArrayLike, out_shape: tuple[int, ...], dtype=np.float32) -> None:
        """Raise the error ``forward`` would raise for targets ``y``, without computing anything.

        ``Sequential.fit`` calls this once on the whole training set before the
        first update, so a bad label is reported at its index in the user's
        ``y`` (not at a position inside a shuffled mini-batch).

        Parameters
        ----------
        y : the targets of all N samples
        out_shape : shape of the network's output for all N samples, e.g. (N, C)
        """
        out = np.broadcast_to(np.zeros((), dtype=dtype), out_shape)  # a view: no memory
        self._targets(out, y)

    def __call__(self, out: ArrayLike, y: ArrayLike) -> float:
        return self.forward(out, y)

    def _cached(self) -> tuple:
        if self._cache is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward() was called before forward(); "
                f"compute the loss first with loss(out, y)"
            )
        return self._cache

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MSE(Loss):
    """Mean squared error, for regression.

    L = 1/M * sum_i (out_i - y_i)**2,   dL/d(out) = 2 * (out - y) / M,

    where the mean runs over **all** M = out.size elements (for out of shape
    (N, D): M = N * D). This is PyTorch's ``MSELoss(reduction="mean")``. (Some
    texts use a factor 1/2 to cancel the 2 in the gradient; we do not.)

    Parameters of ``forward``
    -------------------------
    out : ndarray of shape (N,) or (N, D), the predictions
    y : ndarray of the same shape ((N,) and (N, 1) are interchangeable)
    """

    def forward(self, out: ArrayLike, y: ArrayLike) -> float:
        out = _as_output("MSE", out)
        y = self._targets(out, y)
        diff = out - y  # (N, D)
        self._cache = (diff,)
        return float(np.mean(np.square(diff)))

    def backward(self) -> np.ndarray:
        (diff,) = self._cached()
        return diff * (2 / diff.size)  # (N, D)

    def _targets(self, out: np.ndarray, y: ArrayLike) -> np.ndarray:
        return _match_shape("MSE", out, y)


class BinaryCrossEntropy(Loss):
    """Binary cross-entropy on probabilities p = sigmoid(logits).

    L = -1/M * sum_i [ y_i * log(p_i) + (1 - y_i) * log(1 - p_i) ]
    dL/dp = (p - y) / (p * (1 - p)) / M

    with M = out.size (= N for a single output unit). y holds class labels
    0/1 (soft targets in [0, 1] are allowed too).

    ``log(0)`` is -inf, so p is first clipped to [eps, 1 - eps]: a prediction
    that is confidently wrong costs at most -log(eps) (= 16.1 for eps = 1e-7,
    Keras' default; in float32 1 - 1e-7 rounds to 1 - 1.19e-7, so the cap on
    that side is 15.94) instead of infinity. ``backward`` evaluates the gradient
    at the clipped p, i.e. it treats the clip as the identity: a saturated,
    wrong prediction still gets a (large) gradient pushing it back, where the
    exact derivative of the clipped loss would be 0. Away from the clip this is
    the exact gradient. PyTorch's ``BCELoss`` clamps the log at -100 instead;
    the two agree for p in [eps, 1 - eps].

    Prefer :class:`BinaryCrossEntropyWithLogits`, which needs no clipping.

    Parameters
    ----------
    eps : float in (0, 0.5), the clip margin (default 1e-7)
    """

    def __init__(self, eps: float = 1e-7) -> None:
        super().__init__()
        if not isinstance(eps, (float, int)) or isinstance(eps, bool) or not 0 < eps < 0.5:
            raise ValueError(
                f"The 'eps' parameter of BinaryCrossEntropy must be a float in (0, 0.5). "
                f"Got {eps!r} instead."
            )
        self.eps = float(eps)

    def forward(self, out: ArrayLike, y: ArrayLike) -> float:
        name = "BinaryCrossEntropy"
        out = _as_output(name, out)
        y = self._targets(out, y)
        _check_in_unit_interval(
            name,
            "out to hold probabilities",
            out,
            " (raw scores need BinaryCrossEntropyWithLogits, or a sigmoid first)",
        )
        p = np.clip(out, self.eps, 1 - self.eps)  # (N, 1)
        self._cache = (p, y)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))

    def backward(self) -> np.ndarray:
        p, y = self._cached()
        return (p - y) / (p * (1 - p) * p.size)  # (N, 1)

    def _targets(self, out: np.ndarray, y: ArrayLike) -> np.ndarray:
        return _binary_targets(type(self).__name__, out, y)

    def __repr__(self) -> str:
        return f"BinaryCrossEntropy(eps={self.eps!r})"


class BinaryCrossEntropyWithLogits(Loss):
    """Binary cross-entropy on logits z (the sigmoid is part of the loss).

    With p = sigmoid(z), the loss -[y log p + (1 - y) log(1 - p)] simplifies to

        L = 1/M * sum_i [ max(z_i, 0) - z_i * y_i + log(1 + exp(-|z_i|)) ]
        dL/dz = (sigmoid(z) - y) / M

    (M = out.size). This form never takes the log of 0 and ``exp`` only sees
    numbers <= 0, so it is exact for any z, even +-1e4. It is PyTorch's
    ``BCEWithLogitsLoss``. Predict class 1 where z > 0.

    Parameters of ``forward``
    -------------------------
    out : ndarray of shape (N,) or (N, 1), the logits z
    y : ndarray of shape (N,) or (N, 1), labels 0/1 (or probabilities in [0, 1])
    """

    def forward(self, out: ArrayLike, y: ArrayLike) -> float:
        name = "BinaryCrossEntropyWithLogits"
        z = _as_output(name, out)
        y = self._targets(z, y)
        self._cache = (z, y)
        losses = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))  # (N, 1)
        return float(np.mean(losses))

    def backward(self) -> np.ndarray:
        z, y = self._cached()
        dz = sigmoid(z)
        dz -= y
        dz /= z.size
        return dz  # (N, 1)

    def _targets(self, out: np.ndarray, y: ArrayLike) -> np.ndarray:
        return _binary_targets(type(self).__name__, out, y)


class SoftmaxCrossEntropy(Loss):
    """Softmax followed by cross-entropy, on logits of shape (N, C).

    With log-probabilities log p = log_softmax(z) = z - logsumexp(z):

        L = -1/N * sum_n sum_c y_nc * log p_nc
        dL/dz = (softmax(z) - y) / N

    The targets ``y`` may be

    * integer class labels of shape (N,), values in [0, C): then y_nc is one-hot
      and L = -1/N * sum_n log p_{n, y_n}. The one-hot matrix is never built:
      the gradient subtracts 1 at [n, y_n] directly.
    * probabilities of shape (N, C) (one-hot rows, or soft labels such as label
      smoothing), each row >= 0 and summing to 1.

    The log-sum-exp trick (subtract each row's max) keeps every ``exp`` <= 1,
    so huge logits such as 1e4 are fine. This is PyTorch's
    ``CrossEntropyLoss`` (which also takes logits, not probabilities).
    """

    def forward(self, out: ArrayLike, y: ArrayLike) -> float:
        name = "SoftmaxCrossEntropy"
        z = _as_output(name, out)
        if z.ndim != 2:
            raise ValueError(f"{name} expected out (logits) of shape (N, C); got shape {z.shape}")
        N = z.shape[0]
        y = self._targets(z, y)

        shifted = z - z.max(axis=1, keepdims=True)  # (N, C), row max is 0
        e = np.exp(shifted)  # (N, C), in (0, 1]
        sums = e.sum(axis=1, keepdims=True)  # (N, 1), in [1, C]
        log_sums = np.log(sums)  # (N, 1)
        if y.ndim == 1:
            # -log p[n, y_n] = log_sums[n] - shifted[n, y_n]
            value = (log_sums.sum() - shifted[np.arange(N), y].sum()) / N
        else:
            value = -np.sum(y * (shifted - log_sums)) / N  # (N, C) log-probabilities
        self._cache = (e, sums, y)
        return float(value)

    def backward(self) -> np.ndarray:
        e, sums, y = self._cached()
        N = e.shape[0]
        dz = e / sums  # (N, C) softmax probabilities
        if y.ndim == 1:
            dz[np.arange(N), y] -= 1  # minus the one-hot targets
        else:
            dz -= y
        dz /= N
        return dz

    def _targets(self, out: np.ndarray, y: ArrayLike) -> np.ndarray:
        """Integer labels (N,) as an index array, or probabilities (N, C) in out's dtype."""
        N, C = out.shape
        y = np.asarray(y)
        if y.shape == (N,):
            return self._check_labels(y, C)
        if y.shape == (N, C):
            return self._check_probabilities(y, out.dtype)
        raise ValueError(
            f"SoftmaxCrossEntropy expected y of shape (N,) = ({N},) with integer labels "
            f"or (N, C) = ({N}, {C}) with probabilities; got {y.shape}"
        )

    @staticmethod
    def _check_labels(y: np.ndarray, C: int) -> np.ndarray:
        """Integer labels (N,) in [0, C), returned as an index array."""
        name = "SoftmaxCrossEntropy"
        if y.dtype.kind == "f":
            fractional = ~np.isfinite(y) | (y != np.round(y))
            if fractional.any():
                i = int(np.argmax(fractional))
                raise ValueError(
                    f"{name} expected integer class labels y; got {float(y[i]):g} at index {i}"
                )
        elif y.dtype.kind not in "biu":
            raise TypeError(f"{name} expected integer class labels y; got dtype {y.dtype}")
        y = y.astype(np.intp, copy=False)
        if y.min() < 0 or y.max() >= C:  # two reductions: cheaper than a mask per batch
            i = int(np.argmax((y < 0) | (y >= C)))
            raise ValueError(f"{name} expected labels in [0, {C}); got {y[i]} at index {i}")
        return y

    @staticmethod
    def _check_probabilities(y: np.ndarray, dtype: np.dtype) -> np.ndarray:
        """Probability targets (N, C): every entry >= 0, every row summing to 1."""
        name = "SoftmaxCrossEntropy"
        if y.dtype.kind not in "biuf":
            raise TypeError(f"{name} expected probability targets y; got dtype {y.dtype}")
        y = y.astype(dtype, copy=False)
        if not y.min() >= 0:
            i = np.unravel_index(np.argmin(y), y.shape)
            raise ValueError(
                f"{name} expected probability targets y >= 0; got {y[i]:.4g} at index "
                f"{tuple(int(k) for k in i)}"
            )
        row_sums = y.sum(axis=1)  # (N,)
        off = np.abs(row_sums - 1) > 1e-4
        if off.any():
            n = int(np.argmax(off))
            raise ValueError(
                f"{name} expected each row of probability targets y to sum to 1; "
                f"row {n} sums to {row_sums[n]:.6g}"
            )
        return y
