"""Layers: each one a ``forward``/``backward`` pair following :class:`Layer`."""

from nnlearn.layers.activations import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from nnlearn.layers.attention import MultiHeadAttention
from nnlearn.layers.base import Layer
from nnlearn.layers.containers import Residual
from nnlearn.layers.dense import Dense
from nnlearn.layers.dropout import Dropout
from nnlearn.layers.embedding import Embedding
from nnlearn.layers.gru import GRU
from nnlearn.layers.lstm import LSTM
from nnlearn.layers.normalization import BatchNorm, LayerNorm
from nnlearn.layers.positional import LearnedPositions, PositionalEncoding
from nnlearn.layers.recurrent import RNN, Recurrent
from nnlearn.layers.reshape import Flatten
from nnlearn.layers.transformer import DecoderBlock, EncoderBlock, TransformerBlock

__all__ = [
    "BatchNorm", "DecoderBlock", "Dense", "Dropout", "Embedding", "EncoderBlock", "Flatten", "GRU",
    "LSTM", "Layer", "LayerNorm", "LeakyReLU", "LearnedPositions", "MultiHeadAttention",
    "PositionalEncoding", "RNN", "Recurrent", "ReLU", "Residual", "Sigmoid", "Softmax", "Tanh",
    "TransformerBlock",
]
