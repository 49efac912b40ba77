"""A Sequential model: layers applied one after another, trained with ``fit``."""

from __future__ import annotations

import math

import numpy as np

from nnlearn import losses
from nnlearn.callbacks import Callback
from nnlearn.data import minibatches, train_val_split
from nnlearn.init import RngLike, as_rng
from nnlearn.layers.activations import Sigmoid
from nnlearn.layers.base import Layer
from nnlearn.metrics import accuracy
from nnlearn.progress import progress
from nnlearn.validation import (
    as_array,
    check_finite,
    check_float,
    check_int,
    check_same_length,
)


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite during training."""


class Sequential(Layer):
    """A stack of layers: ``out = layers[-1](... layers[1](layers[0](x)))``.

    Forward runs the layers in order; backward runs them in reverse, each
    turning dL/d(its output) into dL/d(its input) (the chain rule, one layer at
    a time).

    A Sequential is itself a :class:`Layer` whose sub-layers are ``layers``:
    parameters, modes, ``astype`` and the rest come from the layer tree (see
    :mod:`nnlearn.layers.base`), and a Sequential can sit inside another layer
    (e.g. ``Residual(Sequential([LayerNorm(8), Dense(8, 8)]))``).

    Parameters
    ----------
    layers : list of Layer
    rng : int, Generator or None
        If given, re-draws every layer's initial parameters from this one
        source, so one seed reproduces the whole model.

    Example
    -------
    >>> model = Sequential([Dense(2, 8), ReLU(), Dense(8, 1)], rng=0)
    >>> model.fit(x, y, loss=BinaryCrossEntropyWithLogits(),
    ...           optimizer=Adam(model.parameters(), lr=0.01), epochs=100)
    """

    def __init__(self, layers: list[Layer], rng: RngLike = None) -> None:
        super().__init__()
        layers = list(layers)
        if not layers or not all(isinstance(layer, Layer) for layer in layers):
            received = [type(layer).__name__ for layer in layers]
            raise TypeError(f"Sequential expects a non-empty list of Layer objects; got {received}")
        self.layers = self.sublayers = layers  # one list: the layer tree is the stack
        self.history_: dict[str, list[float]] = {}
        self.stop_training = False
        if rng is not None:
            self.reset_parameters(rng)

    # -- forward and backward -------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        """Run ``x`` through every layer (in the current train/eval mode)."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    __call__ = forward

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        """Back-propagate dL/d(output); fills every layer's ``grads``; returns dL/dx."""
        first = self._first_with_params() if not need_dx else 0
        for index in range(len(self.layers) - 1, first - 1, -1):
            dout = self.layers[index].backward(dout, need_dx=index > first or need_dx)
        return dout

    def _first_with_params(self) -> int:
        """Index of the first layer with parameters: below it no gradient is needed in fit."""
        for index, layer in enumerate(self.layers):
            if layer.parameters():
                return index
        return 0

    # -- parameters and modes (the rest comes from Layer) ---------------------
    def reset_parameters(self, rng: RngLike = None) -> Sequential:
        """Re-draw every layer's initial parameters from one random source."""
        super().reset_parameters(as_rng(rng))
        return self

    @property
    def dtype(self):
        """dtype of the parameters (float32 by default)."""
        dtype = super().dtype
        return np.dtype(np.float32) if dtype is None else dtype

    def get_weights(self) -> list[dict[str, np.ndarray]]:
        """A copy of every layer's parameters and buffers (one dict per layer, see
        :meth:`Layer.get_weights`; a nested layer's dict has dotted names)."""
        return [layer.get_weights() for layer in self.layers]

    def set_weights(self, weights: list[dict[str, np.ndarray]]) -> Sequential:
        """Copy ``weights`` (from :meth:`get_weights`) back, in place."""
        if len(weights) != len(self.layers):
            raise ValueError(f"set_weights expected {len(self.layers)} layer dicts; got {len(weights)}")
        for layer, saved in zip(self.layers, weights, strict=True):
            layer.set_weights(saved)
        return self

    def __repr__(self) -> str:
        lines = [f"  ({i}) {layer!r}" for i, layer in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(lines) + f"\n)  # {self.num_params():,} parameters"

    # -- using a trained model ------------------------------------------------
    def predict(self, x, batch_size: int = 1024) -> np.ndarray:
        """Outputs for ``x`` in evaluation mode (logits or probabilities, as the last layer gives)."""
        x = self._check_x(x)
        mode = self.layers[0].training
        self.eval()
        try:
            outs = [self.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
        finally:
            self.train(mode)
        return np.concatenate(outs)

    def predict_classes(self, x, batch_size: int = 1024) -> np.ndarray:
        """Class labels: argmax over classes, or a threshold for a single output.

        A single output is thresholded at 0.5 after a Sigmoid layer and at 0
        otherwise (a logit of 0 is a probability of 0.5).
        """
        out = self.predict(x, batch_size)
        if out.ndim == 2 and out.shape[1] > 1:
            return out.argmax(axis=1)
        threshold = 0.5 if isinstance(self.layers[-1], Sigmoid) else 0.0
        return (out.reshape(len(out)) > threshold).astype(np.int64)

    def evaluate(self, x, y, loss: losses.Loss, batch_size: int = 1024) -> dict[str, float]:
        """Mean loss (and accuracy, for classification losses) over ``(x, y)``."""
        x, y = self._check_xy(x, y)
        out = self.predict(x, batch_size)
        logs = {"loss": float(loss.forward(out, y))}
        acc = _accuracy(loss, out, y)
        if acc is not None:
            logs["accuracy"] = acc
        return logs

    # -- training ------------------------------------------------------------
    def fit(self, x, y, *, loss: losses.Loss, optimizer, epochs: int = 10, batch_size: int = 32,
            validation_data: tuple | None = None, validation_split: float = 0.0,
            shuffle: bool = True, callbacks: list[Callback] = (), rng: RngLike = None,
            verbose: bool = True) -> Sequential:
        """Train with mini-batch gradient descent; returns ``self``.

        Each epoch shuffles the data, splits it into batches, and for every
        batch runs forward, loss, backward and ``optimizer.step()``. After each
        epoch the mean training loss (and accuracy), the validation metrics and
        the learning rate are appended to ``self.history_`` — a dict of lists
        such as ``{"loss": [...], "val_loss": [...]}`` — and the callbacks run.

        Parameters
        ----------
        x : ndarray of shape (N, ...);  y : ndarray of shape (N,) or (N, K)
        loss : Loss (e.g. ``SoftmaxCrossEntropy()``)
        optimizer : Optimizer built on ``model.parameters()``
        validation_data : (x_val, y_val), or
        validation_split : fraction of (x, y) held out at random instead
        rng : seed or Generator for shuffling and the validation split
        verbose : show a progress bar (:func:`nnlearn.progress.progress`: a widget where
            a notebook front end renders widgets, a text bar elsewhere)

        Raises
        ------
        ValueError for inconsistent inputs; TrainingDivergedError if the loss
        becomes NaN or infinite (usually: learning rate too high).
        """
        x, y = self._check_xy(x, y)
        epochs = check_int(epochs, "epochs", "Sequential.fit")
        batch_size = check_int(batch_size, "batch_size", "Sequential.fit")
        check_float(validation_split, "validation_split", "Sequential.fit", "in [0, 1)")
        rng = as_rng(rng)
        self._check_targets(loss, x, y, batch_size)  # before any update: errors give the index in y
        if validation_data is not None:
            x_val, y_val = self._check_xy(*validation_data, names=("x_val", "y_val"))
            self._check_targets(loss, x_val, y_val, batch_size)
        elif validation_split > 0:
            x, y, x_val, y_val = train_val_split(x, y, validation_split, rng=rng)
        else:
            x_val = y_val = None

        self.history_ = {}
        self.steps_ = 0  # optimizer steps taken in this fit
        self.stop_training = False
        for callback in callbacks:
            callback.on_train_begin(self)
        bar = progress(range(1, epochs + 1), disable=not verbose, unit="epoch", leave=True)
        try:
            for epoch in bar:
                logs = self._train_one_epoch(x, y, loss, optimizer, batch_size, shuffle, rng, epoch,
                                             callbacks)
                if x_val is not None:
                    val = self.evaluate(x_val, y_val, loss)
                    logs.update({f"val_{key}": value for key, value in val.items()})
                for key, value in logs.items():
                    self.history_.setdefault(key, []).append(value)
                bar.set_postfix({key: f"{value:.4g}" for key, value in logs.items()}, refresh=False)
                for callback in callbacks:
                    callback.on_epoch_end(self, epoch, logs)
                if self.stop_training:
                    break
        finally:
            bar.close()
        for callback in callbacks:
            callback.on_train_end(self)
        return self

    def _train_one_epoch(self, x, y, loss, optimizer, batch_size, shuffle, rng, epoch, callbacks):
        self.train()
        total_loss, total_correct, seen = 0.0, 0.0, 0
        lr = getattr(optimizer, "current_lr", None)
        # Overflow is detected below, through the loss, with a clearer message than a warning.
        with np.errstate(over="ignore", invalid="ignore"):
            # min_last=2: with N % batch_size == 1 the lone last sample joins the batch before
            # it, because BatchNorm cannot normalise a batch of one.
            for x_batch, y_batch in minibatches(x, y, batch_size, shuffle=shuffle, rng=rng, min_last=2):
                out = self.forward(x_batch)
                batch_loss = loss.forward(out, y_batch)
                if not math.isfinite(batch_loss):
                    raise TrainingDivergedError(_divergence_hint(batch_loss, epoch, seen, optimizer))
                self.backward(loss.backward(), need_dx=False)
                optimizer.step()
                self.steps_ += 1
                for callback in callbacks:
                    callback.on_batch_end(self, self.steps_, batch_loss)
                n = len(x_batch)
                total_loss += batch_loss * n
                batch_accuracy = _accuracy(loss, out, y_batch)
                if batch_accuracy is not None:
                    total_correct += batch_accuracy * n
                seen += n
        logs = {"loss": total_loss / seen}
        if batch_accuracy is not None:
            logs["accuracy"] = total_correct / seen
        if lr is not None:
            logs["lr"] = float(lr)
        return logs

    # -- input checks ---------------------------------------------------------
    def _check_x(self, x, name: str = "x") -> np.ndarray:
        x = as_array(x, name)
        if x.ndim < 2:
            raise ValueError(
                f"{name} must have a batch axis first, shape (N, D) or (N, C, H, W); got shape {x.shape}"
                + (" — for a single sample use x[None, :]" if x.ndim == 1 else "")
            )
        if len(x) == 0:
            raise ValueError(f"{name} must hold at least one sample; got shape {x.shape}")
        x = x.astype(self.dtype, copy=False)
        check_finite(x, name)
        return x

    def _check_targets(self, loss: losses.Loss, x: np.ndarray, y: np.ndarray, batch_size: int) -> None:
        """Let the loss check all of ``y`` against the output shape, which one batch's forward tells."""
        out = self.predict(x[:batch_size])  # (B, ...), in evaluation mode: no state changes
        loss.check_targets(y, (len(y),) + out.shape[1:], out.dtype)

    def _check_xy(self, x, y, names=("x", "y")) -> tuple[np.ndarray, np.ndarray]:
        x = self._check_x(x, names[0])
        y = as_array(y, names[1])
        check_same_length(x, y, *names)
        if y.dtype.kind == "f":
            y = y.astype(self.dtype, copy=False)
            check_finite(y, names[1])
        return x, y


def _divergence_hint(batch_loss: float, epoch: int, seen: int, optimizer) -> str:
    """The message of TrainingDivergedError: where it happened and what to try."""
    lr = getattr(optimizer, "current_lr", None)
    lower = (f"the learning rate is lr={float(lr):g}: try a lower learning rate, e.g. lr={float(lr) / 10:g}"
             if lr is not None else "try a lower learning rate")
    return (f"The loss became {batch_loss} at epoch {epoch} (after {seen} samples). Training "
            f"diverged: {lower}, gradient clipping (clip_norm=...) or normalised inputs.")


def _accuracy(loss, out: np.ndarray, y: np.ndarray) -> float | None:
    """Accuracy for classification losses (reading ``out`` the way the loss does), else None."""
    if isinstance(loss, losses.SoftmaxCrossEntropy):
        return accuracy(out, y)
    if isinstance(loss, losses.BinaryCrossEntropy):
        return accuracy(out, y, threshold=0.5)  # out holds probabilities
    if isinstance(loss, losses.BinaryCrossEntropyWithLogits):
        return accuracy(out, y, threshold=0.0)  # out holds logits
    return None
