"""The one contract every layer follows.

A layer is a function with memory::

    out = layer.forward(x)      # remembers what backward will need
    dx  = layer.backward(dout)  # dout = dL/d(out); returns dL/dx

and, if it has learnable parameters, two dicts with the same keys::

    layer.params = {"w": ..., "b": ...}   # the arrays the optimizer updates
    layer.grads  = {"w": ..., "b": ...}   # dL/dparam, filled by backward

``backward`` writes each gradient *into* ``grads[key]`` (it never rebinds the
array), so an optimizer may hold on to the arrays between steps. Optimizers
update ``params[key]`` in place for the same reason.

Layers behave differently while training (Dropout drops units, BatchNorm uses
batch statistics) and while evaluating; ``train()`` and ``eval()`` switch.
Buffers that are not learned but are part of the state (BatchNorm's running
mean) live in ``buffers``, so that saving and restoring weights includes them.
"""

from __future__ import annotations

import numpy as np


class Layer:
    """Base class: no parameters, identity-free. Subclasses override forward/backward."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.training: bool = True

    # -- the contract ---------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        """Compute the layer's output and keep what ``backward`` needs."""
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        """Given dL/d(out), fill ``self.grads`` and return dL/dx.

        ``need_dx=False`` says nobody needs dL/dx (this is the network's first
        layer): a layer may then skip that work and return None.
        """
        raise NotImplementedError(f"{type(self).__name__}.backward")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    # -- modes ----------------------------------------------------------------
    def train(self, mode: bool = True) -> Layer:
        """Switch to training mode (or evaluation mode with ``mode=False``)."""
        self.training = bool(mode)
        return self

    def eval(self) -> Layer:
        """Switch to evaluation mode."""
        return self.train(False)

    # -- parameters -----------------------------------------------------------
    def reset_parameters(self, rng: np.random.Generator) -> None:
        """Draw fresh initial parameters from ``rng`` (no-op without parameters)."""

    def astype(self, dtype) -> Layer:
        """Convert parameters, gradients and buffers to ``dtype`` (e.g. float64 for gradcheck)."""
        for store in (self.params, self.grads, self.buffers):
            for key, value in store.items():
                store[key] = value.astype(dtype)
        return self

    @property
    def dtype(self):
        """The dtype of the parameters (float32 unless converted with ``astype``)."""
        for value in self.params.values():
            return value.dtype
        return None

    def num_params(self) -> int:
        """Number of learnable scalars."""
        return sum(p.size for p in self.params.values())

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
