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

Layers inside layers
--------------------
A layer may be built from other layers (a residual connection around a block,
attention made of projections, a whole ``Sequential`` model). It lists them in
``self.sublayers``; its own ``forward``/``backward`` call theirs (the chain
rule, by hand), and everything else recurses through the tree by itself:

==========================  ===================================================
``parameters()``            ``(params, grads)`` pairs of self, then of every
                            sub-layer (depth first): what optimizers receive
``train()`` / ``eval()``    set the mode of self and every sub-layer
``astype(dtype)``           convert self and every sub-layer
``reset_parameters(rng)``   re-draw every sub-layer's parameters (a layer with
                            parameters of its own overrides it and calls super)
``get_weights()``           one flat dict of copies, nested names dotted:
/ ``set_weights(d)``        ``{"w": ..., "0.w": ..., "1.running_mean": ...}``
``num_params()``, ``dtype`` counted / read over the whole tree
==========================  ===================================================

``named_layers()`` walks the tree and names each layer by its path of
indices ("" for the layer itself, "1" for its second sub-layer, "1.0" for the
first sub-layer of that); :mod:`nnlearn.gradcheck` uses these names. A layer
must appear only once in a tree (no weight sharing: each backward *writes* its
gradients, so a second use would overwrite the first's).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

Pairs = list[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]


class Layer:
    """Base class: no parameters, no sub-layers. Subclasses override forward/backward."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.sublayers: list[Layer] = []  # layers inside this one, in the order forward uses them
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

    # -- the tree of layers -----------------------------------------------------
    def named_layers(self, prefix: str = "") -> Iterator[tuple[str, Layer]]:
        """``(path, layer)`` for self (path ``prefix``) and every sub-layer, depth first."""
        yield prefix, self
        for i, layer in enumerate(self.sublayers):
            yield from layer.named_layers(f"{prefix}.{i}" if prefix else str(i))

    def parameters(self) -> Pairs:
        """The ``(params, grads)`` dict pairs of self and every sub-layer that has parameters."""
        return [(layer.params, layer.grads) for _, layer in self.named_layers() if layer.params]

    # -- modes ----------------------------------------------------------------
    def train(self, mode: bool = True) -> Layer:
        """Switch to training mode (or evaluation mode with ``mode=False``), sub-layers too."""
        self.training = bool(mode)
        for layer in self.sublayers:
            layer.train(mode)
        return self

    def eval(self) -> Layer:
        """Switch to evaluation mode."""
        return self.train(False)

    # -- parameters -----------------------------------------------------------
    def reset_parameters(self, rng: np.random.Generator) -> None:
        """Draw fresh initial parameters from ``rng``: here, those of every sub-layer in turn.

        A layer with parameters of its own overrides this, draws them, and (if it
        also has sub-layers) calls ``super().reset_parameters(rng)``.
        """
        for layer in self.sublayers:
            layer.reset_parameters(rng)

    def astype(self, dtype) -> Layer:
        """Convert parameters, gradients and buffers to ``dtype`` (e.g. float64 for gradcheck).

        The arrays are replaced, so build optimizers after converting.
        """
        for store in (self.params, self.grads, self.buffers):
            for key, value in store.items():
                store[key] = value.astype(dtype)
        for layer in self.sublayers:
            layer.astype(dtype)
        return self

    @property
    def dtype(self):
        """The dtype of the parameters (float32 unless converted with ``astype``); None without."""
        for params, _ in self.parameters():
            for value in params.values():
                return value.dtype
        return None

    def num_params(self) -> int:
        """Number of learnable scalars, sub-layers included."""
        return sum(p.size for params, _ in self.parameters() for p in params.values())

    def named_state(self) -> Iterator[tuple[str, np.ndarray]]:
        """``(name, array)`` for every parameter and buffer of the tree, e.g. ``("1.0.w", w)``."""
        for path, layer in self.named_layers():
            for key, value in {**layer.params, **layer.buffers}.items():
                yield (f"{path}.{key}" if path else key), value

    def get_weights(self) -> dict[str, np.ndarray]:
        """A copy of every parameter and buffer, by name (see :meth:`named_state`)."""
        return {name: value.copy() for name, value in self.named_state()}

    def set_weights(self, weights: dict[str, np.ndarray]) -> Layer:
        """Copy ``weights`` (from :meth:`get_weights`) back, in place (optimizers keep references)."""
        state = dict(self.named_state())
        if not isinstance(weights, dict) or set(weights) != set(state):
            got = sorted(weights) if isinstance(weights, dict) else type(weights).__name__
            raise ValueError(f"set_weights of {type(self).__name__} expected a dict with the "
                             f"keys {sorted(state)}; got {got}")
        for name, value in state.items():
            saved = np.asarray(weights[name])
            if saved.shape != value.shape:
                raise ValueError(f"set_weights of {type(self).__name__}: {name!r} must have shape "
                                 f"{value.shape}; got {saved.shape}")
            value[...] = saved
        return self

    def __repr__(self) -> str:
        if not self.sublayers:
            return f"{type(self).__name__}()"
        inner = ", ".join(repr(layer) for layer in self.sublayers)
        return f"{type(self).__name__}({inner})"
