"""Layers: each one a ``forward``/``backward`` pair following :class:`Layer`."""

from nnlearn.layers.activations import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from nnlearn.layers.base import Layer
from nnlearn.layers.containers import Residual
from nnlearn.layers.dense import Dense
from nnlearn.layers.dropout import Dropout
from nnlearn.layers.normalization import BatchNorm
from nnlearn.layers.reshape import Flatten

__all__ = [
    "BatchNorm", "Dense", "Dropout", "Flatten", "Layer", "LeakyReLU", "ReLU", "Residual",
    "Sigmoid", "Softmax", "Tanh",
]
