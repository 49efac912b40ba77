"""Layers made of layers: the residual connection."""

from __future__ import annotations

import numpy as np

from nnlearn.layers.base import Layer


class Residual(Layer):
    r"""A skip connection around ``layer``: out = x + layer(x).

    .. math::  out = x + f(x), \qquad \frac{\partial L}{\partial x} = dout + f'(x)^\top dout

    The gradient reaches ``x`` twice: straight through the identity, and
    through ``f``. However deep a stack of residual blocks, the identity path
    carries ``dout`` down unchanged, which is why very deep networks (ResNets,
    Transformers) train at all. ``f`` must keep the shape of its input.

    ``layer`` is this layer's only sub-layer: its parameters, mode and dtype are
    reached through the layer tree (see :mod:`nnlearn.layers.base`).
    """

    def __init__(self, layer: Layer) -> None:
        super().__init__()
        if not isinstance(layer, Layer):
            raise TypeError(f"Residual expects a Layer; got {type(layer).__name__}")
        self.layer = layer
        self.sublayers = [layer]

    def forward(self, x: np.ndarray) -> np.ndarray:
        fx = self.layer.forward(x)
        if fx.shape != x.shape:
            raise ValueError(f"Residual needs {self.layer!r} to keep the shape of its input "
                             f"{x.shape}; it returned {fx.shape}")
        return x + fx

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        dfx = self.layer.backward(dout, need_dx=need_dx)
        if not need_dx:
            return None
        return dout + dfx
