"""Callbacks: code that ``Sequential.fit`` runs at fixed points of training.

A callback overrides any of::

    on_train_begin(model)
    on_batch_end(model, step, loss)    # after every optimizer step (step counts from 1)
    on_epoch_end(model, epoch, logs)   # logs: this epoch's {"loss": ..., "val_loss": ...}
    on_train_end(model)

and may stop training early by setting ``model.stop_training = True``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from nnlearn.validation import check_float, check_int


class Callback:
    """Base class: every hook does nothing."""

    def on_train_begin(self, model) -> None:
        """Called once before the first epoch."""

    def on_batch_end(self, model, step: int, loss: float) -> None:
        """Called after each optimizer step (``step`` counts from 1 over the whole fit) with the batch loss."""

    def on_epoch_end(self, model, epoch: int, logs: dict[str, float]) -> None:
        """Called after each epoch (``epoch`` counts from 1) with that epoch's metrics."""

    def on_train_end(self, model) -> None:
        """Called once after the last epoch (also after an early stop)."""


class LambdaCallback(Callback):
    """Turn plain functions into a callback: ``on_epoch_end(model, epoch, logs)`` and/or
    ``on_batch_end(model, step, loss)``.

    Handy in lessons, e.g. to redraw a decision boundary every few epochs or to
    record the loss of every single update.
    """

    def __init__(self, on_epoch_end: Callable | None = None, on_batch_end: Callable | None = None) -> None:
        self.epoch_fn = on_epoch_end
        self.batch_fn = on_batch_end

    def on_batch_end(self, model, step: int, loss: float) -> None:
        if self.batch_fn is not None:
            self.batch_fn(model, step, loss)

    def on_epoch_end(self, model, epoch: int, logs: dict[str, float]) -> None:
        if self.epoch_fn is not None:
            self.epoch_fn(model, epoch, logs)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs.

    "Improved" means lower by more than ``min_delta`` (or higher, for a metric
    whose name contains "accuracy"). With ``restore_best_weights`` the model
    ends with the weights of its best epoch rather than its last one, which is
    the whole point: the last epochs were, by definition, worse.

    After training, ``best_epoch_``, ``best_value_`` and ``stopped_epoch_``
    (None if training ran to the end) say what happened.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 restore_best_weights: bool = True) -> None:
        self.monitor = monitor
        self.patience = check_int(patience, "patience", "EarlyStopping")
        self.min_delta = check_float(min_delta, "min_delta", "EarlyStopping", ">= 0")
        self.restore_best_weights = restore_best_weights
        self.higher_is_better = "accuracy" in monitor

    def on_train_begin(self, model) -> None:
        self.best_value_ = -np.inf if self.higher_is_better else np.inf
        self.best_epoch_ = None
        self.best_weights = None
        self.stopped_epoch_ = None
        self.wait = 0

    def _improved(self, value: float) -> bool:
        if self.higher_is_better:
            return value > self.best_value_ + self.min_delta
        return value < self.best_value_ - self.min_delta

    def on_epoch_end(self, model, epoch: int, logs: dict[str, float]) -> None:
        if self.monitor not in logs:
            raise ValueError(
                f"EarlyStopping monitors {self.monitor!r}, but fit only records {sorted(logs)}; "
                "pass validation data (validation_data=... or validation_split=...) to get 'val_' metrics"
            )
        value = logs[self.monitor]
        if self._improved(value):
            self.best_value_, self.best_epoch_, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = copy.deepcopy(model.get_weights())
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch_ = epoch
            model.stop_training = True

    def on_train_end(self, model) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            model.set_weights(self.best_weights)
