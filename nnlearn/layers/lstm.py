r"""Long short-term memory (Hochreiter & Schmidhuber, 1997), over a whole sequence."""

from __future__ import annotations

import numpy as np

from nnlearn.layers.recurrent import Recurrent

__all__ = ["LSTM", "sigmoid_tanh_inplace"]


def sigmoid_tanh_inplace(a: np.ndarray, scale: np.ndarray, offset: np.ndarray) -> np.ndarray:
    r"""Apply sigmoid to some columns of ``a`` and tanh to the others, in place.

    Uses :math:`\sigma(a) = \tfrac12 \tanh(\tfrac12 a) + \tfrac12`, so one ``tanh`` over
    the whole (N, G*H) block does every gate, and nothing overflows (``exp(-a)``
    would for a < -88 in float32). ``scale`` is 0.5 on sigmoid columns and 1 on tanh
    columns, ``offset`` 0.5 and 0.
    """
    a *= scale
    np.tanh(a, out=a)
    a *= scale
    a += offset
    return a


class LSTM(Recurrent):
    r"""LSTM layer: a cell state :math:`c_t` that gates decide to keep, write and show.

    With :math:`a_t = x_t W_{ih} + h_{t-1} W_{hh} + b` of shape (N, 4H) split into
    four (N, H) blocks, in PyTorch's order i, f, g, o:

    .. math::
        i_t = \sigma(a^i_t) \;\text{(input gate)}, \quad
        f_t = \sigma(a^f_t) \;\text{(forget gate)}, \quad
        g_t = \tanh(a^g_t) \;\text{(candidate)}, \quad
        o_t = \sigma(a^o_t) \;\text{(output gate)}

        c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t)

    The cell state is updated by a product with :math:`f_t` and a sum, not by a
    matrix product and a squashing function, so with :math:`f_t \approx 1` its
    gradient passes many steps almost unchanged: :math:`\partial c_t / \partial c_{t-1} = f_t`.

    Backward through one step, with :math:`\delta h` and :math:`\delta c` arriving from
    the output and from step t+1, and :math:`\tau_t = \tanh(c_t)`:

    .. math::
        do = \delta h \odot \tau_t, \quad
        \delta c \mathrel{+}= \delta h \odot o_t \odot (1 - \tau_t^2), \quad
        di = \delta c \odot g_t, \quad df = \delta c \odot c_{t-1}, \quad dg = \delta c \odot i_t

        da = [di \odot i(1-i),\; df \odot f(1-f),\; dg \odot (1-g^2),\; do \odot o(1-o)], \quad
        \delta h_{t-1} = da\, W_{hh}^\top, \quad \delta c_{t-1} = \delta c \odot f_t

    Shapes: x (N, T, D), w_ih (D, 4H), w_hh (H, 4H), b (4H,), out (N, T, H) or (N, H);
    state (h, c), each (N, H). Same as ``torch.nn.LSTM(D, H, batch_first=True)`` with
    ``w_ih = weight_ih_l0.T``, ``w_hh = weight_hh_l0.T``, ``b = bias_ih_l0 + bias_hh_l0``
    (see :class:`~nnlearn.layers.recurrent.Recurrent`).

    Parameters
    ----------
    input_size, hidden_size : int
        D and H.
    return_sequences : bool
        Output every h_t (N, T, H) or only the last (N, H).
    stateful : bool
        Start each forward from the previous call's final state.
    rng, dtype : as for :class:`~nnlearn.layers.dense.Dense`.
    """

    gates = 4
    state_names = ("h", "c")

    def _gate_constants(self, dtype):
        H = self.hidden_size
        scale = np.full(4 * H, 0.5, dtype=dtype)
        scale[2 * H:3 * H] = 1  # g is a tanh, the others sigmoids
        offset = np.where(scale == 0.5, 0.5, 0).astype(dtype)
        return scale, offset

    def _forward_steps(self, xw, state0):
        T, N, _ = xw.shape
        H = self.hidden_size
        w_hh = self.params["w_hh"]
        scale, offset = self._gate_constants(xw.dtype)
        hs = np.empty((T + 1, N, H), dtype=xw.dtype)  # h_0 .. h_T
        cs = np.empty((T + 1, N, H), dtype=xw.dtype)  # c_0 .. c_T
        tanh_c = np.empty((T, N, H), dtype=xw.dtype)  # tanh(c_1) .. tanh(c_T)
        hs[0], cs[0] = state0
        xw += self.params["b"]
        tmp = np.empty((N, 4 * H), dtype=xw.dtype)
        for t in range(T):
            gates = xw[t]  # (N, 4H): becomes [i, f, g, o], kept for backward
            np.matmul(hs[t], w_hh, out=tmp)  # (N, H) @ (H, 4H) -> (N, 4H)
            gates += tmp
            sigmoid_tanh_inplace(gates, scale, offset)
            i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
            np.multiply(f, cs[t], out=cs[t + 1])
            cs[t + 1] += i * g  # c_t = f c_{t-1} + i g
            np.tanh(cs[t + 1], out=tanh_c[t])
            np.multiply(o, tanh_c[t], out=hs[t + 1])  # h_t = o tanh(c_t)
        self.gates_, self.cs, self.tanh_c = xw, cs, tanh_c
        self.state_ = (hs[T].copy(), cs[T].copy())
        return hs

    def _backward_steps(self, dhs, final):
        hs, cs, tanh_c, acts = self.hs, self.cs, self.tanh_c, self.gates_
        w_hh = self.params["w_hh"]
        T, N, H = tanh_c.shape
        da = np.empty((T, N, 4 * H), dtype=hs.dtype)  # dL/d(pre-activations) of every step
        dh, dc = final  # (N, H) each
        tmp = np.empty((N, H), dtype=hs.dtype)
        for t in range(T - 1, -1, -1):
            if dhs is not None:
                dh += dhs[t]
            i, f, g, o = (acts[t, :, k * H:(k + 1) * H] for k in range(4))
            di, df, dg, do = (da[t, :, k * H:(k + 1) * H] for k in range(4))
            tc = tanh_c[t]
            np.multiply(dh, tc, out=do)  # dL/do
            np.multiply(tc, tc, out=tmp)
            np.subtract(1, tmp, out=tmp)  # 1 - tanh(c_t)^2
            tmp *= o
            tmp *= dh
            dc += tmp  # dL/dc_t: from h_t and from c_{t+1}
            np.multiply(dc, g, out=di)
            np.multiply(dc, cs[t], out=df)
            np.multiply(dc, i, out=dg)
            dc *= f  # dL/dc_{t-1} through c_t = f c_{t-1} + ...
            # through the nonlinearities: sigmoid' = s (1 - s), tanh' = 1 - g^2
            di *= i * (1 - i)
            df *= f * (1 - f)
            dg *= 1 - g * g
            do *= o * (1 - o)
            dh = da[t] @ w_hh.T  # (N, 4H) @ (4H, H) -> (N, H): on to h_{t-1}
        da2 = da.reshape(T * N, 4 * H)
        np.matmul(hs[:T].reshape(T * N, H).T, da2, out=self.grads["w_hh"])  # (H, T*N) @ (T*N, 4H)
        np.sum(da2, axis=0, out=self.grads["b"])
        return da, [dh, dc]
