"""Gradient checking: is my backward pass right?

A backward pass is easy to get subtly wrong, and a wrong gradient often still
trains, just badly. So we compare it with the definition of the derivative,
using central differences:

    df/dx_i  ~  (f(x + eps * e_i) - f(x - eps * e_i)) / (2 * eps)

whose error shrinks like eps**2. Each entry costs two evaluations of f, so
this is far too slow to train with, but perfect to test with.

A layer maps an array to an array; to check it we turn it into a scalar with a
random upstream gradient ``dout``: f(x) = sum(layer.forward(x) * dout). Then
df/dx = layer.backward(dout), and df/dw is what backward wrote into
``layer.grads["w"]``. Random ``dout`` (rather than all ones) makes sure that
every output contributes differently, so a mixed-up index cannot cancel out.

Typical use, in float64 (in float32, rounding alone gives errors of 1e-4 to
1e-2, so a 1e-7 tolerance is out of reach)::

    layer = Dense(5, 3).astype(np.float64)
    x = np.random.default_rng(0).standard_normal((4, 5))   # float64
    result = check_layer(layer, x)
    print(result)            # gradcheck OK: max relative error 3.1e-10 (dw[2, 1])
    result.raise_if_failed() # AssertionError saying where, if it is wrong
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from nnlearn.init import RngLike, as_rng

__all__ = [
    "PrecisionWarning",
    "GradcheckResult",
    "numerical_gradient",
    "relative_error",
    "relative_errors",
    "check_layer",
    "check_loss",
    "check_model",
]


class PrecisionWarning(UserWarning):
    """A gradient check was asked to run in a precision too low to reach its tolerance."""


# -- the numerical derivative ---------------------------------------------------
def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar function ``f()`` with respect to ``x``.

    grad[i] = (f() with x[i] += eps  -  f() with x[i] -= eps) / (2 * eps)

    ``f`` takes no arguments: it must read ``x`` itself (e.g. ``x`` is a
    layer's ``params["w"]``, or the input captured by a lambda). Each entry of
    ``x`` is perturbed **in place** and restored afterwards (also if ``f``
    raises), so ``x`` must be the very array ``f`` reads, not a copy.

    This is a plain Python loop over the entries (2 * x.size calls of ``f``):
    fine for checking on small arrays, never for training.

    Parameters
    ----------
    f : callable returning a float
    x : float ndarray of any shape, perturbed in place
    eps : step size. The error is ~eps**2 (truncation) + 1e-16 * |f| / eps
        (rounding); 1e-6 balances them in float64.

    Returns
    -------
    grad : ndarray of the same shape and dtype as ``x``
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        got = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
        raise TypeError(f"numerical_gradient expected x to be a float ndarray; got {got}")
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        try:
            x[i] = old + eps
            f_plus = float(f())
            x[i] = old - eps
            f_minus = float(f())
        finally:
            x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_errors(analytic: np.ndarray, numeric: np.ndarray) -> np.ndarray:
    """Error of each entry, relative to the size of the whole gradient.

        err_i = |a_i - n_i| / max_j (|a_j| + |n_j|)

    (0 where both arrays are entirely 0). The largest err_i is the normwise
    relative error ||a - n||_max / (|a| + |n|)_max of numerical analysis.

    Why not the plain elementwise |a_i - n_i| / (|a_i| + |n_i|) (cs231n's
    choice)? Central differences have an *absolute* error of about
    1e-16 * |f| / eps ~ 1e-10, the same for every entry however small. An
    entry whose true gradient is ~0 (a bias that barely matters, a saturated
    sigmoid) then scores noise / noise ~ 1 and fails a correct backward. So we
    measure every entry against the one scale the noise respects, the size of
    the gradient as a whole. This loses nothing real: a discrepancy below
    1e-7 of the gradient's scale cannot be told apart from rounding anyway,
    and any larger one still fails a 1e-7 tolerance, in however small an entry.
    For the largest entries the two definitions agree, so the usual guide
    holds (see :func:`relative_error`).
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise ValueError(
            f"relative_errors expected arrays of the same shape; "
            f"got analytic {analytic.shape} and numeric {numeric.shape}"
        )
    size = np.abs(analytic) + np.abs(numeric)
    scale = size.max() if size.size else 0.0
    if not scale > 0:  # both all zero (or NaN somewhere, which must not pass)
        return np.where(np.isnan(size), np.inf, 0.0)
    return np.abs(analytic - numeric) / scale


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """The largest of :func:`relative_errors`: one number saying how wrong a gradient is.

    Rough guide in float64: < 1e-7 correct; 1e-7 .. 1e-4 suspicious (or a kink
    such as ReLU at 0 was crossed, or the arrays are so large that rounding
    adds up); > 1e-4 wrong. A single wrong entry typically scores 0.1 to 1.
    """
    errors = relative_errors(analytic, numeric)
    return float(errors.max()) if errors.size else 0.0


# -- the result -------------------------------------------------------------------
@dataclass(repr=False)
class GradcheckResult:
    """Outcome of a gradient check.

    Attributes
    ----------
    max_rel_error : the largest relative error over all checked arrays
    array : name of the array holding it, e.g. "dx", "dw", "layer 2 db"
    index : index of the worst entry in that array, e.g. (2, 5)
    analytic, numeric : the two values compared at that entry
    errors : largest relative error of each array, e.g. {"dx": 2e-10, "dw": 3e-10}
    tol : the tolerance; the check passed if ``max_rel_error < tol``
    """

    max_rel_error: float
    array: str
    index: tuple[int, ...]
    analytic: float
    numeric: float
    errors: dict[str, float] = field(default_factory=dict)
    tol: float = 1e-7

    @property
    def ok(self) -> bool:
        """True if the largest relative error is below ``tol``."""
        return bool(self.max_rel_error < self.tol)

    @property
    def where(self) -> str:
        """The worst entry, e.g. "dw[2, 5]" (just the array name for 0-d arrays)."""
        if not self.index:
            return self.array
        return f"{self.array}[{', '.join(str(i) for i in self.index)}]"

    def __bool__(self) -> bool:  # so that ``assert check_layer(...)`` means something
        return self.ok

    def __str__(self) -> str:
        if self.ok:
            return f"gradcheck OK: max relative error {self.max_rel_error:.2g} ({self.where})"
        return (
            f"gradcheck FAILED: max relative error {self.max_rel_error:.2g} at {self.where} "
            f"(analytic {self.analytic:.6g}, numeric {self.numeric:.6g}); tolerance {self.tol:.0e}"
        )

    def __repr__(self) -> str:
        lines = [str(self)]
        width = max((len(name) for name in self.errors), default=0)
        for name, error in self.errors.items():
            mark = "" if error < self.tol else "  <-- FAILED"
            lines.append(f"  {name:<{width}}  {error:.2g}{mark}")
        return "\n".join(lines)

    def raise_if_failed(self) -> GradcheckResult:
        """Raise AssertionError with the readable report unless the check passed; return self."""
        if not self.ok:
            raise AssertionError(repr(self))
        return self


def _compare(pairs: dict[str, tuple[np.ndarray, np.ndarray]], tol: float) -> GradcheckResult:
    """Build a GradcheckResult from named (analytic, numeric) gradient pairs."""
    worst = []  # (error, name, index, analytic value, numeric value), one per array
    for name, (analytic, numeric) in pairs.items():
        if np.shape(analytic) != np.shape(numeric):
            raise ValueError(
                f"gradcheck: the analytic gradient {name} has shape {np.shape(analytic)}, "
                f"but the array it is the gradient of has shape {np.shape(numeric)}"
            )
        errors = relative_errors(analytic, numeric)
        if errors.size == 0:
            worst.append((0.0, name, (), 0.0, 0.0))
            continue
        i = np.unravel_index(np.argmax(errors), errors.shape)
        worst.append((float(errors[i]), name, tuple(int(k) for k in i), analytic[i], numeric[i]))
    if not worst:
        return GradcheckResult(0.0, "", (), 0.0, 0.0, tol=tol)
    error, name, index, a, n = max(worst, key=lambda w: w[0])  # the first of equals
    return GradcheckResult(
        max_rel_error=error,
        array=name,
        index=index,
        analytic=float(a),
        numeric=float(n),
        errors={w[1]: w[0] for w in worst},
        tol=tol,
    )


def _warn_precision(arrays: Iterable[tuple[str, np.ndarray]], tol: float) -> None:
    """Warn once if any array is not float64: its rounding alone exceeds a 1e-7 tolerance."""
    low = [f"{name} is {a.dtype}" for name, a in arrays if np.asarray(a).dtype != np.float64]
    if low:
        warnings.warn(
            f"gradcheck runs in float64, but {', '.join(low)}: rounding errors alone will "
            f"exceed the tolerance {tol:.0e}. Pass x.astype(np.float64) and a layer/model "
            f"converted with .astype(np.float64).",
            PrecisionWarning,
            stacklevel=3,
        )


@contextmanager
def _buffers_restored(layers: Iterable):
    """Restore the layers' ``buffers`` (e.g. BatchNorm's running averages, which
    every forward in training mode updates) when the block is left."""
    saved = [
        (layer.buffers, {k: np.array(v, copy=True) for k, v in layer.buffers.items()})
        for layer in layers
        if isinstance(getattr(layer, "buffers", None), dict)
    ]
    try:
        yield
    finally:
        for buffers, copies in saved:
            buffers.update(copies)


def _float_copy(name: str, x) -> np.ndarray:
    x = np.array(x)  # a copy: the caller's array is never touched
    if x.dtype.kind != "f":
        raise TypeError(f"gradcheck expected {name} to be a float array; got dtype {x.dtype}")
    return x


# -- checks -----------------------------------------------------------------------
def check_layer(
    layer, x: np.ndarray, rng: RngLike = None, eps: float = 1e-6, tol: float = 1e-7
) -> GradcheckResult:
    """Compare ``layer.backward`` with numerical gradients, for dx and every parameter.

    The scalar checked is f = sum(layer.forward(x) * dout) with a random
    ``dout`` of the output's shape, so df/d(out) = dout and the analytic
    gradients are ``dx = layer.backward(dout)`` and ``layer.grads[key]``.

    ``layer`` is any object with ``forward(x)``, ``backward(dout) -> dx`` and
    ``params`` / ``grads`` dicts (see nnlearn.layers.base). Parameters are
    perturbed in place and restored. A layer with sub-layers (``Residual``, a
    Transformer block) is checked whole: the parameters of every sub-layer
    too, named by their path ("0.dw": dw of sub-layer 0; "1.0.dgamma").

    ``forward`` must be deterministic: the same x must give the same output on
    every call, or the differences measure noise. A layer with randomness
    (Dropout) needs it fixed by the caller (e.g. a fixed mask, or an ``rng``
    re-seeded before each call); a non-deterministic forward raises ValueError.
    The layer is checked in whatever mode (train/eval) it is in. Its
    ``buffers`` (e.g. BatchNorm's running averages, which every forward in
    training mode updates) are restored afterwards.

    Parameters
    ----------
    layer : the layer, converted with ``layer.astype(np.float64)``
    x : float64 ndarray, the input, e.g. of shape (N, D); not modified
    rng : seed or Generator for ``dout``
    eps : finite-difference step
    tol : pass if every relative error is below ``tol``

    Returns
    -------
    GradcheckResult, covering "dx", "d<key>" for each key of ``layer.params`` and
    "<path>.d<key>" for the parameters of sub-layers
    """
    x = _float_copy("x", x)
    named = _named_parameters(layer)
    _warn_precision([("x", x)] + [(f"params[{name!r}]", params[key])
                                  for name, params, _, key in named], tol)

    with _buffers_restored(_tree(layer)):
        return _check_layer(layer, x, named, as_rng(rng), eps, tol)


def _tree(layer) -> list:
    """The layer and all its sub-layers (just the layer if it has no ``named_layers``)."""
    if hasattr(layer, "named_layers"):
        return [sub for _, sub in layer.named_layers()]
    return [layer]


def _named_parameters(layer, prefix: str = "") -> list[tuple[str, dict, dict, str]]:
    """``(name, params, grads, key)`` for every parameter of the layer tree.

    Names are the key for the layer's own parameters ("w") and the path of the
    sub-layer before it otherwise ("1.0.w": parameter w of sub-layer 0 of sub-layer 1).
    """
    named = []
    layers = layer.named_layers() if hasattr(layer, "named_layers") else [("", layer)]
    for path, sub in layers:
        for key in getattr(sub, "params", {}):
            named.append((f"{prefix}{path}.{key}" if path else f"{prefix}{key}", sub.params,
                          sub.grads, key))
    return named


def _grad_name(name: str) -> str:
    """The gradient's name: "w" -> "dw", "1.0.w" -> "1.0.dw"."""
    path, _, key = name.rpartition(".")
    return f"{path}.d{key}" if path else f"d{key}"


def _check_layer(layer, x, named, rng, eps, tol) -> GradcheckResult:
    out = np.array(layer.forward(x))  # a copy, in case forward reuses its output array
    dout = rng.standard_normal(out.shape).astype(out.dtype)
    if not np.array_equal(out, layer.forward(x), equal_nan=True):
        raise ValueError(
            f"check_layer needs a deterministic forward, but two calls of "
            f"{type(layer).__name__}.forward on the same x gave different outputs; "
            f"fix its randomness (e.g. Dropout's mask) or call layer.eval()"
        )
    for name, params, grads, key in named:  # backward may add into grads: start from zero
        if key not in grads:
            raise ValueError(
                f"The grads of the layer holding {name!r} have no key {key!r}; "
                f"grads must have the same keys as params {sorted(params)}"
            )
        grads[key][...] = 0
    dx = layer.backward(dout)
    if dx is None:
        raise ValueError(f"{type(layer).__name__}.backward(dout) returned None instead of dx")
    analytic = {"dx": np.array(dx)}
    for name, _, grads, key in named:
        analytic[_grad_name(name)] = grads[key].copy()

    def f() -> float:
        return float(np.sum(layer.forward(x) * dout))

    pairs = {"dx": (analytic["dx"], numerical_gradient(f, x, eps))}
    for name, params, _, key in named:
        pairs[_grad_name(name)] = (analytic[_grad_name(name)], numerical_gradient(f, params[key], eps))
    return _compare(pairs, tol)


def check_loss(loss, out: np.ndarray, y, eps: float = 1e-6, tol: float = 1e-7) -> GradcheckResult:
    """Compare ``loss.backward()`` with the numerical gradient of ``loss(out, y)`` w.r.t. ``out``.

    Parameters
    ----------
    loss : an object with ``forward(out, y) -> float`` and ``backward() -> dout``
    out : float64 ndarray, the network output (e.g. logits (N, C)); not modified
    y : the targets, passed to the loss unchanged

    Keep ``out`` small (say up to a few hundred entries): a mean-reduced loss
    has gradient entries of size ~1/out.size while the rounding error of the
    numerical gradient stays ~1e-10, so very large arrays drift towards 1e-7.

    Returns
    -------
    GradcheckResult with a single array "dout"
    """
    out = _float_copy("out", out)
    _warn_precision([("out", out)], tol)
    loss.forward(out, y)
    analytic = np.array(loss.backward())
    numeric = numerical_gradient(lambda: loss.forward(out, y), out, eps)
    return _compare({"dout": (analytic, numeric)}, tol)


def check_model(
    model, loss, x: np.ndarray, y, eps: float = 1e-6, tol: float = 1e-7
) -> GradcheckResult:
    """Check a whole network: gradients of ``loss(model.forward(x), y)`` for every parameter.

    ``model`` needs ``forward(x)``, ``backward(dout)`` and ``parameters()``
    returning a list of ``(params, grads)`` dict pairs (as ``Sequential`` does).
    If ``model`` is a :class:`~nnlearn.layers.Layer` (a ``Sequential``, a
    block), every parameter of its layer tree is checked, named after the path
    of the layer that owns it ("layer 2 dw", "layer 1.0 dw" for sub-layer 0 of
    layer 1). Otherwise, if it has a ``layers`` list, arrays are named after
    the layer that owns them ("layer 2 dw"), else after their position in
    ``parameters()`` ("group 1 dw"). If ``backward`` returns dx, it is checked
    too. As for :func:`check_layer`, ``forward`` must be deterministic, and the
    layers' ``buffers`` are restored afterwards.

    Parameters
    ----------
    model : the network, in float64
    loss : a loss object (``forward(out, y) -> float``, ``backward() -> dout``)
    x : float64 ndarray, the input batch; not modified
    y : the targets
    """
    x = _float_copy("x", x)
    named = []  # (name of the gradient, parameter array, gradient array)
    low_precision = [("x", x)]
    if hasattr(model, "named_layers"):  # a Layer (e.g. Sequential): names from the layer tree
        layers = _tree(model)
        for name, params, grads, key in _named_parameters(model):
            path = name.rpartition(".")[0]
            prefix = f"layer {path} " if path else ""
            named.append((f"{prefix}d{key}", params[key], grads[key]))
            low_precision.append((f"{prefix}{key}", params[key]))
    else:
        layers = list(getattr(model, "layers", []))
        for j, (params, grads) in enumerate(model.parameters()):
            prefix = _group_name(layers, j, params)
            for key in params:
                named.append((f"{prefix} d{key}", params[key], grads[key]))
                low_precision.append((f"{prefix} {key}", params[key]))
    _warn_precision(low_precision, tol)

    def f() -> float:
        return float(loss.forward(model.forward(x), y))

    with _buffers_restored(layers):
        return _check_model(model, loss, x, y, named, f, eps, tol)


def _group_name(layers: list, j: int, params: dict) -> str:
    """ "layer i" if ``params`` belongs to ``layers[i]``, else "group j" (j-th pair of parameters())."""
    for i, layer in enumerate(layers):
        if getattr(layer, "params", None) is params:
            return f"layer {i}"
    return f"group {j}"


def _check_model(model, loss, x, y, named, f, eps, tol) -> GradcheckResult:
    value = float(loss.forward(model.forward(x), y))
    if value != f():
        raise ValueError(
            "check_model needs a deterministic forward, but two calls of model.forward on the "
            "same x gave different losses; fix its randomness (e.g. Dropout) or call model.eval()"
        )
    for _, _, g in named:
        g[...] = 0
    dx = model.backward(loss.backward())
    analytic = {name: g.copy() for name, _, g in named}
    pairs = {}
    if dx is not None:
        pairs["dx"] = (np.array(dx), numerical_gradient(f, x, eps))
    for name, p, _ in named:
        pairs[name] = (analytic[name], numerical_gradient(f, p, eps))
    return _compare(pairs, tol)
