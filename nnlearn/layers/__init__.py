"""Layers: each one a ``forward``/``backward`` pair following :class:`Layer`."""

from nnlearn.layers.activations import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from nnlearn.layers.base import Layer
from nnlearn.layers.conv import Conv2D
from nnlearn.layers.dense import Dense
from nnlearn.layers.dropout import Dropout
from nnlearn.layers.normalization import BatchNorm
from nnlearn.layers.pooling import AvgPool2D, GlobalAvgPool2D, MaxPool2D
from nnlearn.layers.reshape import Flatten

__all__ = [
    "AvgPool2D", "BatchNorm", "Conv2D", "Dense", "Dropout", "Flatten", "GlobalAvgPool2D", "Layer",
    "LeakyReLU", "MaxPool2D", "ReLU", "Sigmoid", "Softmax", "Tanh",
]
