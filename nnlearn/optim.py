"""Optimizers: turn gradients into parameter updates.

An optimizer is built on the ``(params, grads)`` dict pairs of a model (what
``Sequential.parameters()`` returns) or on pairs made by hand::

    opt = Adam(model.parameters(), lr=1e-3)
    opt = SGD([({"xy": xy}, {"xy": dxy})], lr=0.1)   # a lesson's 2-D toy problem

Each call to ``step()`` does, for every parameter tensor ``p`` with gradient
``g = grads[key]`` (read afresh at every step):

1. optionally clip all gradients together by their global norm (``clip_norm``),
2. look up the learning rate of this step: a float, or a schedule
   ``lr = schedule(t)`` from :mod:`nnlearn.schedules`,
3. update ``p`` *in place* with the optimizer's rule.

Whatever the rule remembers between steps (velocity, running averages) lives in
``opt.state[(i, key)]``, for pair ``i`` and parameter name ``key``; ``opt.t``
counts the steps taken.

Speed: each rule is a few in-place NumPy passes (``out=``, ``*=``, ``+=``) over
preallocated scratch arrays, with per-step scalars (learning rate, bias
corrections) folded into Python floats, which leave float32 arrays float32.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

import numpy as np

from nnlearn.validation import check_float

Pairs = Sequence[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]
LearningRate = float | Callable[[int], float]


# -- argument checks ------------------------------------------------------------
def _check_parameters(parameters, owner: str) -> list:
    """Check ``parameters`` is a non-empty list of (params, grads) dict pairs with matching keys."""
    expected = "a non-empty list of (params, grads) pairs of dicts, such as model.parameters()"
    if isinstance(parameters, dict) or not isinstance(parameters, (list, tuple)):
        raise TypeError(f"The 'parameters' argument of {owner} must be {expected}. "
                        f"Got a {type(parameters).__name__} instead.")
    pairs = list(parameters)
    for i, pair in enumerate(pairs):
        where = f"parameters[{i}] of {owner}"
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2
                and all(isinstance(d, dict) for d in pair)):
            raise TypeError(f"{where} must be a (params, grads) pair of dicts. Got a "
                            f"{type(pair).__name__} (wrap a single pair in a list: [(params, grads)]).")
        params, grads = pair
        if params.keys() != grads.keys():
            raise ValueError(f"{where}: params and grads must have the same keys. "
                             f"Got params keys {sorted(params)} and grads keys {sorted(grads)}.")
        for key, p in params.items():
            g = grads[key]
            if not (isinstance(p, np.ndarray) and p.dtype.kind == "f"):
                raise TypeError(f"{where}: params[{key!r}] must be a float ndarray (updated in "
                                f"place). Got {type(p).__name__} {getattr(p, 'dtype', '')}.")
            if not isinstance(g, np.ndarray) or g.shape != p.shape:
                raise ValueError(f"{where}: grads[{key!r}] must be an ndarray shaped like "
                                 f"params[{key!r}] {p.shape}. Got {getattr(g, 'shape', g)}.")
    if not any(params for params, _ in pairs):
        raise ValueError(f"The 'parameters' argument of {owner} must be {expected}. Got no parameters.")
    return pairs


# -- gradient clipping -----------------------------------------------------------
def _clip(grads: list[np.ndarray], max_norm: float) -> float:
    total = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))  # ||g|| over all tensors
    scale = max_norm / (total + 1e-6)  # the 1e-6 (as in PyTorch) guards against 0 / 0
    if scale < 1.0:
        for g in grads:
            g *= scale
    return total


def clip_grad_norm(parameters: Pairs, max_norm: float) -> float:
    r"""Rescale all gradients together so that their global norm is at most ``max_norm``.

    .. math::
        \|g\| = \sqrt{\textstyle\sum_{\text{tensors}} \sum_j g_j^2}, \qquad
        g \leftarrow g \cdot \min\!\left(1, \frac{\text{max\_norm}}{\|g\| + 10^{-6}}\right)

    The direction of the overall gradient is kept; only a too-long step is shortened
    (useful against exploding gradients in RNNs). The ``grads`` arrays of the
    ``(params, grads)`` pairs are scaled in place, and the norm before clipping is
    returned. Same as ``torch.nn.utils.clip_grad_norm_``.
    """
    pairs = _check_parameters(parameters, "clip_grad_norm")
    max_norm = check_float(max_norm, "max_norm", "clip_grad_norm")
    return _clip([g for _, grads in pairs for g in grads.values()], max_norm)


# -- the optimizer contract ------------------------------------------------------
class Optimizer:
    """Base class: holds the parameters, the learning rate, the state and the step loop.

    Subclasses implement ``_init_state(p)`` (the memory one tensor needs) and
    ``_update(p, g, state, tmp, lr)``, which updates ``p`` in place (``tmp``: two
    scratch arrays shaped like ``p``).

    Parameters
    ----------
    parameters : list of (params, grads) dict pairs with the same keys
    lr : float > 0, or a schedule: a callable ``step -> lr`` (see :mod:`nnlearn.schedules`)
    weight_decay : float >= 0
        L2 penalty ``wd/2 * ||p||^2``, added to the gradient: ``g <- g + wd * p``.
    clip_norm : float > 0 or None; if set, gradients are clipped (:func:`clip_grad_norm`)
    """

    _fields: tuple[str, ...] = ("lr", "weight_decay", "clip_norm")  # shown by repr

    def __init__(self, parameters: Pairs, lr: LearningRate, weight_decay: float = 0.0,
                 clip_norm: float | None = None) -> None:
        owner = type(self).__name__
        self.parameters = _check_parameters(parameters, owner)
        self.lr = lr
        self.weight_decay = check_float(weight_decay, "weight_decay", owner, ">= 0")
        self.clip_norm = None if clip_norm is None else check_float(clip_norm, "clip_norm", owner)
        self.t = 0  # steps taken
        self.state: dict[tuple[int, str], dict[str, np.ndarray]] = {}
        self.last_grad_norm: float | None = None  # global gradient norm, when clipping
        self._tmp: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]] = {}
        self._slots = [(i, key, params, grads)
                       for i, (params, grads) in enumerate(self.parameters) for key in params]

    @property
    def lr(self) -> LearningRate:
        """The learning rate: a float or a schedule ``step -> lr``."""
        return self._lr

    @lr.setter
    def lr(self, value: LearningRate) -> None:
        self._lr = value if callable(value) else check_float(value, "lr", type(self).__name__)

    @property
    def current_lr(self) -> float:
        """The learning rate of step number ``t`` (the step ``step()`` takes next)."""
        return float(self._lr(self.t)) if callable(self._lr) else self._lr

    def step(self) -> None:
        """Update every parameter once, in place, from its current gradient."""
        if self.clip_norm is not None:
            all_grads = [grads[key] for _, key, _, grads in self._slots]  # read afresh
            self.last_grad_norm = _clip(all_grads, self.clip_norm)
        lr = self.current_lr
        for i, key, params, grads in self._slots:
            p = params[key]
            state = self.state.get((i, key))
            if state is None:  # first step: allocate memory and scratch like p
                state = self.state[(i, key)] = self._init_state(p)
                self._tmp[(i, key)] = (np.empty_like(p), np.empty_like(p))
            self._update(p, grads[key], state, self._tmp[(i, key)], lr)
        self.t += 1

    def zero_grad(self) -> None:
        """Set every gradient to 0, in place (layers overwrite them anyway; handy by hand)."""
        for _, key, _, grads in self._slots:
            grads[key].fill(0)

    def _init_state(self, p: np.ndarray) -> dict[str, np.ndarray]:
        return {}  # default: nothing to remember

    def _update(self, p, g, state, tmp, lr: float) -> None:
        raise NotImplementedError(f"{type(self).__name__}._update")  # the rule goes here

    def _decayed(self, p: np.ndarray, g: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``g + weight_decay * p`` (written into ``out``), or ``g`` itself without decay."""
        if not self.weight_decay:
            return g
        np.multiply(p, self.weight_decay, out=out)
        out += g
        return out

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({args})"


# -- the rules -------------------------------------------------------------------
class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional (Nesterov) momentum.

    .. math::
        g &\leftarrow g + \text{wd}\, p                &&\text{(L2 weight decay)} \\
        v &\leftarrow \mu\, v + g                        &&\text{(velocity, } v_0 = 0) \\
        p &\leftarrow p - \text{lr}\, v                  &&\text{(plain SGD when } \mu = 0) \\
        p &\leftarrow p - \text{lr}\,(g + \mu\, v)       &&\text{(Nesterov: look one step ahead)}

    The velocity is a running sum of past gradients: along a direction where they
    agree it grows up to ``1 / (1 - mu)`` times a plain step; where they alternate
    it cancels out. Same as ``torch.optim.SGD`` (no dampening).

    Parameters: ``momentum`` in [0, 1), ``nesterov`` (needs momentum > 0), and
    ``parameters, lr, weight_decay, clip_norm`` as in :class:`Optimizer`.
    """

    _fields = ("lr", "momentum", "nesterov", "weight_decay", "clip_norm")

    def __init__(self, parameters: Pairs, lr: LearningRate, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0,
                 clip_norm: float | None = None) -> None:
        super().__init__(parameters, lr, weight_decay, clip_norm)
        owner = type(self).__name__
        self.momentum = check_float(momentum, "momentum", owner, "in [0, 1)")
        if not isinstance(nesterov, (bool, np.bool_)) or (nesterov and not self.momentum):
            raise ValueError(f"The 'nesterov' parameter of {owner} must be a bool, and True only "
                             f"with momentum > 0. Got {nesterov!r} with momentum={momentum}.")
        self.nesterov = bool(nesterov)

    def _init_state(self, p):
        return {"velocity": np.zeros_like(p)} if self.momentum else {}

    def _update(self, p, g, state, tmp, lr):
        a, _ = tmp
        g = self._decayed(p, g, out=a)
        if not self.momentum:
            np.multiply(g, lr, out=a)
            p -= a  # p -= lr * g
            return
        mu, v = self.momentum, state["velocity"]
        v *= mu
        v += g  # v = mu * v + g
        if self.nesterov:  # p -= lr * g + lr * mu * v
            np.multiply(g, lr, out=a)
            p -= a
            np.multiply(v, lr * mu, out=a)
        else:  # p -= lr * v
            np.multiply(v, lr, out=a)
        p -= a


class Momentum(SGD):
    """SGD with momentum ``beta``: ``v = beta * v + g;  p -= lr * v``.

    Exactly ``SGD(parameters, lr, momentum=beta, ...)``, under the name the
    optimizer lesson uses. See :class:`SGD` for the formulas.
    """

    _fields = ("lr", "beta", "nesterov", "weight_decay", "clip_norm")

    def __init__(self, parameters: Pairs, lr: LearningRate, beta: float = 0.9,
                 nesterov: bool = False, weight_decay: float = 0.0,
                 clip_norm: float | None = None) -> None:
        beta = check_float(beta, "beta", type(self).__name__, "in [0, 1)")
        super().__init__(parameters, lr, beta, nesterov, weight_decay, clip_norm)

    @property
    def beta(self) -> float:
        return self.momentum


class RMSprop(Optimizer):
    r"""RMSprop: divide each step by a running root-mean-square of the gradients.

    .. math::
        g &\leftarrow g + \text{wd}\, p \\
        s &\leftarrow \alpha\, s + (1 - \alpha)\, g^2       \qquad (s_0 = 0) \\
        p &\leftarrow p - \text{lr}\, \frac{g}{\sqrt{s} + \epsilon}

    Every coordinate gets its own step size: large where gradients have been
    large, small where they have been small. Same as ``torch.optim.RMSprop``
    (``alpha`` is what Keras calls ``rho``; ``eps`` is added outside the root).

    Parameters: ``alpha`` in [0, 1), ``eps`` > 0, and
    ``parameters, lr, weight_decay, clip_norm`` as in :class:`Optimizer`.
    The default ``lr=1e-3`` is Keras'; PyTorch's
    ``RMSprop`` defaults to ``lr=1e-2``, so pass ``lr`` explicitly when
    comparing the two.
    """

    _fields = ("lr", "alpha", "eps", "weight_decay", "clip_norm")

    def __init__(self, parameters: Pairs, lr: LearningRate = 1e-3, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0,
                 clip_norm: float | None = None) -> None:
        super().__init__(parameters, lr, weight_decay, clip_norm)
        owner = type(self).__name__
        self.alpha = check_float(alpha, "alpha", owner, "in [0, 1)")
        self.eps = check_float(eps, "eps", owner)

    def _init_state(self, p):
        return {"square_avg": np.zeros_like(p)}

    def _update(self, p, g, state, tmp, lr):
        a, b = tmp
        g = self._decayed(p, g, out=b)
        s, alpha = state["square_avg"], self.alpha
        np.square(g, out=a)
        a *= 1.0 - alpha
        s *= alpha
        s += a  # s = alpha * s + (1 - alpha) * g^2
        np.sqrt(s, out=a)
        a += self.eps
        np.divide(g, a, out=a)
        a *= lr
        p -= a  # p -= lr * g / (sqrt(s) + eps)


class Adam(Optimizer):
    r"""Adam: momentum and RMSprop together, with bias correction.

    .. math::
        g &\leftarrow g + \text{wd}\, p                    &&\text{(coupled L2 decay)} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g         &&\text{(mean of } g) \\
        v_t &= \beta_2 v_{t-1} + (1 - \beta_2)\, g^2       &&\text{(mean of } g^2) \\
        \hat m_t &= m_t / (1 - \beta_1^t), \quad \hat v_t = v_t / (1 - \beta_2^t)
                                                           &&\text{(} m_0 = v_0 = 0 \text{ bias)} \\
        p &\leftarrow p - \text{lr}\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    On the first step :math:`\hat m = g` and :math:`\sqrt{\hat v} = |g|`, so every
    parameter moves by about ``lr`` against the sign of its gradient. Same as
    ``torch.optim.Adam``.

    Implementation: ``state`` keeps the discounted *sums* ``g_sum`` :math:`= s_t`
    and ``g2_sum`` :math:`= r_t` rather than the averages (:math:`s_t = \beta_1 s_{t-1} + g`,
    so :math:`m_t = (1 - \beta_1) s_t`, and likewise :math:`v_t = (1 - \beta_2) r_t`):
    a sum is updated in one pass less. Then
    :math:`\hat m_t = \sum_k \beta_1^{t-k} g_k / \sum_k \beta_1^{t-k}` -- bias
    correction just divides by the total weight -- and all the constants fold into
    two scalars per step:

    .. math::
        p \leftarrow p - \text{lr}\,\frac{c_1}{c_2}\, \frac{s_t}{\sqrt{r_t} + \epsilon / c_2},
        \qquad c_1 = \frac{1 - \beta_1}{1 - \beta_1^t}, \quad
        c_2 = \sqrt{\frac{1 - \beta_2}{1 - \beta_2^t}}

    Parameters: ``betas`` (two floats in [0, 1)), ``eps`` > 0, and
    ``parameters, lr, weight_decay, clip_norm`` as in :class:`Optimizer`.
    """

    _fields = ("lr", "betas", "eps", "weight_decay", "clip_norm")
    decoupled = False  # AdamW: shrink p directly instead of adding wd * p to g

    def __init__(self, parameters: Pairs, lr: LearningRate = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, clip_norm: float | None = None) -> None:
        super().__init__(parameters, lr, weight_decay, clip_norm)
        owner = type(self).__name__
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2
                and all(isinstance(b, numbers.Real) and not isinstance(b, bool) and 0 <= b < 1
                        for b in betas)):
            raise ValueError(f"The 'betas' parameter of {owner} must be a pair of floats in "
                             f"[0, 1). Got {betas!r} instead.")
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = check_float(eps, "eps", owner)

    def _init_state(self, p):
        return {"g_sum": np.zeros_like(p), "g2_sum": np.zeros_like(p)}

    def _update(self, p, g, state, tmp, lr):
        (beta1, beta2), t, a = self.betas, self.t + 1, tmp[0]
        if self.decoupled and self.weight_decay:
            p *= 1.0 - lr * self.weight_decay  # AdamW: p <- p - lr * wd * p
        elif self.weight_decay:
            g = self._decayed(p, g, out=a)  # Adam: g <- g + wd * p
        s, r = state["g_sum"], state["g2_sum"]
        s *= beta1
        s += g  # s = beta1 * s + g        (m_t = (1 - beta1) s)
        np.square(g, out=a)
        r *= beta2
        r += a  # r = beta2 * r + g^2      (v_t = (1 - beta2) r)
        c1 = (1.0 - beta1) / (1.0 - beta1**t)  # m_hat = c1 * s
        c2 = math.sqrt((1.0 - beta2) / (1.0 - beta2**t))  # sqrt(v_hat) = c2 * sqrt(r)
        np.sqrt(r, out=a)
        a += self.eps / c2
        np.divide(s, a, out=a)
        a *= lr * c1 / c2
        p -= a  # p -= lr * m_hat / (sqrt(v_hat) + eps)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    .. math::
        p \leftarrow p - \text{lr}\cdot\text{wd}\cdot p, \quad \text{then the Adam step with } g

    With Adam's coupled L2, ``wd * p`` is divided by :math:`\sqrt{\hat v}` like the
    rest of the gradient, so weights with large gradients are barely decayed.
    AdamW shrinks every weight by the same factor ``1 - lr * wd`` instead. Same as
    ``torch.optim.AdamW`` (default ``weight_decay=1e-2``).
    """

    decoupled = True

    def __init__(self, parameters: Pairs, lr: LearningRate = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, clip_norm: float | None = None) -> None:
        super().__init__(parameters, lr, betas, eps, weight_decay, clip_norm)
