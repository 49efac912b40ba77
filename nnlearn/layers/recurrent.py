r"""Recurrent layers: one cell applied at every time step, with weights shared over time.

A recurrent layer reads a whole batch of sequences at once, batch first::

    x    (N, T, D)   N sequences of T steps, D features per step
    out  (N, T, H)   the hidden state after every step (``return_sequences=True``)
    out  (N, H)      or only the last one (``return_sequences=False``)

The simplest cell (:class:`RNN`, Elman's) is

.. math::  h_t = \tanh(x_t W_{ih} + h_{t-1} W_{hh} + b)

:class:`~nnlearn.layers.lstm.LSTM` and :class:`~nnlearn.layers.gru.GRU` add gates.

How the work is organised (the same in all three):

* The input part :math:`x_t W_{ih} + b` does not depend on :math:`h_{t-1}`, so it is
  computed for **all T steps in one matrix product** (N*T, D) @ (D, G*H) before the loop.
* Only :math:`h_{t-1} W_{hh}` has to wait for the previous step: the loop runs over
  the T time steps (never over samples), one (N, H) @ (H, G*H) product per step.
* Backpropagation through time (BPTT) runs the same loop backwards, carrying
  dL/dh (and dL/dc for the LSTM) from step t to step t-1; the gradients of the
  shared weights are summed over steps, again with one big product each at the end.

Parameter layout (the same numbers as PyTorch, transposed like :class:`Dense`)::

    params["w_ih"]  (D, G*H)   = torch weight_ih_l0.T
    params["w_hh"]  (H, G*H)   = torch weight_hh_l0.T
    params["b"]     (G*H,)     = torch bias_ih_l0 + bias_hh_l0   (RNN, LSTM)

with G = 1 (RNN), 4 (LSTM: gates i, f, g, o) or 3 (GRU: r, z, n), the gates side
by side in PyTorch's order. :meth:`Recurrent.load_torch_state` and
:meth:`Recurrent.torch_state` copy weights from and to ``torch.nn.RNN/LSTM/GRU``
(``batch_first=True``, one layer, unidirectional).

State: ``forward(x, state=None)`` starts from ``state`` (zeros if None) and
leaves the final state in ``self.state_`` (an (N, H) array; for the LSTM a pair
``(h, c)``). Feeding ``state_`` into the next call continues a long sequence
chunk by chunk (truncated BPTT: gradients do not flow back across chunks).
``stateful=True`` does that automatically; ``reset_state()`` forgets.
``backward(dout, dstate=None)`` also accepts dL/d(final state), and leaves
dL/d(initial state) in ``self.dstate_``.
"""

from __future__ import annotations

import numpy as np

from nnlearn.init import RngLike, as_rng
from nnlearn.layers.base import Layer
from nnlearn.validation import check_int

__all__ = ["Recurrent", "RNN"]


class Recurrent(Layer):
    """What RNN, LSTM and GRU share: shapes, checks, the input GEMM, state handling.

    Subclasses set ``gates`` (G) and ``state_names`` and implement ``_forward_steps``
    and ``_backward_steps``.
    """

    gates = 1
    state_names = ("h",)
    torch_biases = "sum"  # "sum": one bias b = b_ih + b_hh;  "both": keep b_ih and b_hh (GRU)

    def __init__(self, input_size: int, hidden_size: int, return_sequences: bool = True,
                 stateful: bool = False, rng: RngLike = None, dtype=np.float32) -> None:
        super().__init__()
        name = type(self).__name__
        self.input_size = check_int(input_size, "input_size", name)
        self.hidden_size = check_int(hidden_size, "hidden_size", name)
        self.return_sequences = bool(return_sequences)
        self.stateful = bool(stateful)
        D, H, GH = self.input_size, self.hidden_size, self.gates * self.hidden_size
        self.params = {
            "w_ih": np.empty((D, GH), dtype=dtype),
            "w_hh": np.empty((H, GH), dtype=dtype),
        }
        if self.torch_biases == "sum":
            self.params["b"] = np.empty(GH, dtype=dtype)
        else:
            self.params["b_ih"] = np.empty(GH, dtype=dtype)
            self.params["b_hh"] = np.empty(GH, dtype=dtype)
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        self.state_ = None
        self.dstate_ = None
        self.reset_parameters(as_rng(rng))

    def reset_parameters(self, rng: np.random.Generator) -> None:
        """PyTorch's default: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))."""
        k = 1.0 / np.sqrt(self.hidden_size)
        for key, p in self.params.items():
            p[...] = rng.uniform(-k, k, p.shape)
            if key == "b":  # PyTorch has two biases with this law; their sum is ours
                p += rng.uniform(-k, k, p.shape)
        self.reset_state()

    def reset_state(self) -> None:
        """Forget the carried state (``stateful=True`` then restarts from zeros)."""
        self.state_ = None

    # -- checks ---------------------------------------------------------------
    def _check_input(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[2] != self.input_size:
            hint = " (a single sequence needs x[None])" if x.ndim == 2 else ""
            raise ValueError(
                f"{self!r} expected input x of shape (N, T, D) = (N, T, {self.input_size}); "
                f"got shape {x.shape}{hint}"
            )
        if x.shape[0] == 0 or x.shape[1] == 0:
            raise ValueError(f"{self!r} expected at least one sequence of at least one step; got {x.shape}")
        return x.astype(self.dtype, copy=False)  # float32 stays float32

    def _initial_state(self, state, N: int) -> list[np.ndarray]:
        """The state to start from as a list of (N, H) arrays (zeros if None)."""
        H, k = self.hidden_size, len(self.state_names)
        if state is None and self.stateful and self.state_ is not None:
            state = self.state_
        if state is None:
            return [np.zeros((N, H), dtype=self.dtype) for _ in range(k)]
        parts = list(state) if k > 1 else [state]
        names = ", ".join(self.state_names)
        if len(parts) != k:
            raise ValueError(f"{self!r} expected state as a pair ({names}) of arrays (N, H); "
                             f"got {len(parts)} arrays")
        checked = []
        for name, s in zip(self.state_names, parts, strict=True):
            s = np.asarray(s)
            if s.shape != (N, H):
                raise ValueError(f"{self!r} expected the initial state {name} of shape (N, H) = "
                                 f"({N}, {H}); got shape {s.shape}")
            checked.append(s.astype(self.dtype, copy=False))
        return checked

    # -- forward and backward -------------------------------------------------
    def forward(self, x: np.ndarray, state=None) -> np.ndarray:
        """Run the cell over all T steps.

        Parameters
        ----------
        x : ndarray of shape (N, T, D)
        state : None, an (N, H) array, or for the LSTM a pair (h, c) of (N, H) arrays

        Returns
        -------
        out : ndarray of shape (N, T, H), or (N, H) with ``return_sequences=False``
        """
        x = self._check_input(x)
        N, T, D = x.shape
        state0 = self._initial_state(state, N)
        self.x_tm = np.ascontiguousarray(x.transpose(1, 0, 2))  # (T, N, D), time-major
        # The input half of every step in one GEMM: (T*N, D) @ (D, G*H) -> (T, N, G*H)
        xw = np.matmul(self.x_tm.reshape(T * N, D), self.params["w_ih"]).reshape(T, N, -1)
        hs = self._forward_steps(xw, state0)  # (T + 1, N, H): h_0 .. h_T
        self.hs = hs
        if self.return_sequences:
            return np.ascontiguousarray(hs[1:].transpose(1, 0, 2))  # (T, N, H) -> (N, T, H)
        return hs[T].copy()  # (N, H)

    def backward(self, dout: np.ndarray, need_dx: bool = True, dstate=None) -> np.ndarray | None:
        """BPTT: fill ``grads`` and return dL/dx of shape (N, T, D).

        ``dout`` is dL/d(out), of the output's shape. ``dstate`` (optional) is
        dL/d(final state), shaped like ``state_``. dL/d(initial state) is left
        in ``self.dstate_``.
        """
        T, N, _ = self.x_tm.shape
        H = self.hidden_size
        expected = (N, T, H) if self.return_sequences else (N, H)
        if np.shape(dout) != expected:
            raise ValueError(f"{self!r}.backward expected dout of shape {expected}; got {np.shape(dout)}")
        final = [np.zeros((N, H), dtype=self.dtype) for _ in self.state_names]
        if dstate is not None:
            parts = list(dstate) if len(final) > 1 else [dstate]
            for f, d in zip(final, parts, strict=True):
                f += d
        if self.return_sequences:
            dhs = dout.transpose(1, 0, 2)  # (N, T, H) -> (T, N, H), a view
        else:
            final[0] += dout  # only h_T reaches the output
            dhs = None
        da, dstate0 = self._backward_steps(dhs, final)  # da: (T, N, G*H) dL/d(input projection)
        self.dstate_ = dstate0[0] if len(dstate0) == 1 else tuple(dstate0)
        return self._input_gradients(da, need_dx)

    def _input_gradients(self, da: np.ndarray, need_dx: bool) -> np.ndarray | None:
        """dw_ih and dx from dL/d(x_t W_ih) of all steps, one GEMM each."""
        T, N, D = self.x_tm.shape
        da2 = da.reshape(T * N, -1)  # (T*N, G*H)
        np.matmul(self.x_tm.reshape(T * N, D).T, da2, out=self.grads["w_ih"])  # (D, T*N) @ (T*N, G*H)
        if not need_dx:
            return None
        dx = np.matmul(da2, self.params["w_ih"].T).reshape(T, N, D)  # (T*N, G*H) @ (G*H, D)
        return np.ascontiguousarray(dx.transpose(1, 0, 2))  # (T, N, D) -> (N, T, D)

    def _forward_steps(self, xw, state0):
        raise NotImplementedError(f"{type(self).__name__}._forward_steps")

    def _backward_steps(self, dhs, final):
        raise NotImplementedError(f"{type(self).__name__}._backward_steps")

    # -- PyTorch interoperability ---------------------------------------------
    def load_torch_state(self, state_dict) -> Recurrent:
        """Copy weights from a ``torch.nn.RNN/LSTM/GRU`` ``state_dict()`` (arrays or tensors)."""
        get = {k: np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v)
               for k, v in state_dict.items()}
        self.params["w_ih"][...] = get["weight_ih_l0"].T  # (G*H, D) -> (D, G*H)
        self.params["w_hh"][...] = get["weight_hh_l0"].T  # (G*H, H) -> (H, G*H)
        if self.torch_biases == "sum":
            self.params["b"][...] = get["bias_ih_l0"] + get["bias_hh_l0"]
        else:
            self.params["b_ih"][...] = get["bias_ih_l0"]
            self.params["b_hh"][...] = get["bias_hh_l0"]
        return self

    def torch_state(self) -> dict[str, np.ndarray]:
        """The parameters under PyTorch's names and shapes, for ``module.load_state_dict``
        (after ``torch.from_numpy`` of each array)."""
        state = {"weight_ih_l0": self.params["w_ih"].T.copy(), "weight_hh_l0": self.params["w_hh"].T.copy()}
        if self.torch_biases == "sum":
            state["bias_ih_l0"] = self.params["b"].copy()
            state["bias_hh_l0"] = np.zeros_like(self.params["b"])
        else:
            state["bias_ih_l0"] = self.params["b_ih"].copy()
            state["bias_hh_l0"] = self.params["b_hh"].copy()
        return state

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.input_size} -> {self.hidden_size})"


class RNN(Recurrent):
    r"""Elman RNN with tanh, over a whole sequence: :math:`h_t = \tanh(x_t W_{ih} + h_{t-1} W_{hh} + b)`.

    Shapes: x (N, T, D), w_ih (D, H), w_hh (H, H), b (H,), out (N, T, H) or (N, H).

    Backward through one step, with :math:`\delta_t = dL/dh_t` (from the output
    at step t plus from step t+1):

    .. math::
        da_t = \delta_t \odot (1 - h_t^2), \qquad
        \delta_{t-1} \mathrel{+}= da_t W_{hh}^\top, \qquad
        dW_{hh} = \sum_t h_{t-1}^\top da_t, \quad dW_{ih} = \sum_t x_t^\top da_t, \quad
        db = \sum_t \sum_n da_t

    Same as ``torch.nn.RNN(D, H, batch_first=True)`` (see :class:`Recurrent` for the
    parameter layout and the state arguments).

    Parameters
    ----------
    input_size, hidden_size : int
        D and H.
    return_sequences : bool
        Output every h_t (N, T, H) or only the last (N, H).
    stateful : bool
        Start each forward from the previous call's final state.
    rng, dtype : as for :class:`Dense`.
    """

    def _forward_steps(self, xw, state0):
        T, N, H = xw.shape
        w_hh, b = self.params["w_hh"], self.params["b"]
        hs = np.empty((T + 1, N, H), dtype=xw.dtype)  # h_0 .. h_T
        hs[0] = state0[0]
        xw += b
        for t in range(T):
            h = hs[t + 1]
            np.matmul(hs[t], w_hh, out=h)  # (N, H) @ (H, H) -> (N, H)
            h += xw[t]
            np.tanh(h, out=h)
        self.state_ = hs[T].copy()
        return hs

    def _backward_steps(self, dhs, final):
        hs, w_hh = self.hs, self.params["w_hh"]
        T, N, H = hs.shape[0] - 1, hs.shape[1], hs.shape[2]
        da = np.empty((T, N, H), dtype=hs.dtype)  # dL/d(pre-activation) of every step
        dh = final[0]  # (N, H): dL/dh_t, accumulated from the output and from step t+1
        for t in range(T - 1, -1, -1):
            if dhs is not None:
                dh += dhs[t]
            np.multiply(hs[t + 1], hs[t + 1], out=da[t])
            np.subtract(1, da[t], out=da[t])  # tanh' = 1 - h_t^2
            da[t] *= dh
            dh = da[t] @ w_hh.T  # (N, H) @ (H, H) -> (N, H): on to h_{t-1}
        da2 = da.reshape(T * N, H)
        np.matmul(hs[:T].reshape(T * N, H).T, da2, out=self.grads["w_hh"])  # (H, T*N) @ (T*N, H)
        np.sum(da2, axis=0, out=self.grads["b"])
        return da, [dh]
