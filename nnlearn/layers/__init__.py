"""Layers: each one a ``forward``/``backward`` pair following :class:`Layer`."""

from nnlearn.layers.activations import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from nnlearn.layers.attention import MultiHeadAttention
from nnlearn.layers.base import Layer
from nnlearn.layers.containers import Residual
from nnlearn.layers.conv import Conv2D
from nnlearn.layers.dense import Dense
from nnlearn.layers.dropout import Dropout
from nnlearn.layers.embedding import Embedding
from nnlearn.layers.gru import GRU
from nnlearn.layers.lstm import LSTM
from nnlearn.layers.normalization import BatchNorm, LayerNorm
from nnlearn.layers.pooling import AvgPool2D, GlobalAvgPool2D, MaxPool2D
from nnlearn.layers.positional import LearnedPositions, PositionalEncoding
from nnlearn.layers.recurrent import RNN, Recurrent
from nnlearn.layers.reshape import Flatten
from nnlearn.layers.transformer import DecoderBlock, EncoderBlock, TransformerBlock

__all__ = [
    "AvgPool2D", "BatchNorm", "Conv2D", "DecoderBlock", "Dense", "Dropout", "Embedding", "EncoderBlock",
    "Flatten", "GRU", "GlobalAvgPool2D", "LSTM", "Layer", "LayerNorm", "LeakyReLU", "LearnedPositions",
    "MaxPool2D", "MultiHeadAttention", "PositionalEncoding", "RNN", "Recurrent", "ReLU", "Residual", "Sigmoid",
    "Softmax", "Tanh", "TransformerBlock",
]
