r"""Gated recurrent unit (Cho et al., 2014), over a whole sequence."""

from __future__ import annotations

import numpy as np

from nnlearn.layers.lstm import sigmoid_tanh_inplace
from nnlearn.layers.recurrent import Recurrent

__all__ = ["GRU"]


class GRU(Recurrent):
    r"""GRU layer: an LSTM without a separate cell state, with two gates instead of three.

    With the input part :math:`u_t = x_t W_{ih} + b_{ih}` and the hidden part
    :math:`v_t = h_{t-1} W_{hh} + b_{hh}`, each (N, 3H) split into blocks r, z, n
    (PyTorch's order):

    .. math::
        r_t = \sigma(u^r_t + v^r_t) \;\text{(reset)}, \qquad
        z_t = \sigma(u^z_t + v^z_t) \;\text{(update)}

        n_t = \tanh(u^n_t + r_t \odot v^n_t), \qquad
        h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}

    Note where the reset gate sits: it multiplies :math:`v^n_t = h_{t-1} W_{hn} + b_{hn}`
    *after* the matrix product and its bias (PyTorch, cuDNN), not :math:`h_{t-1}`
    before it (the original paper). That is why the GRU keeps both biases: the
    n-block of :math:`b_{hh}` is scaled by :math:`r_t` and cannot be merged into :math:`b_{ih}`.

    Backward through one step, with :math:`\delta h` arriving from the output and step t+1:

    .. math::
        dn = \delta h \odot (1 - z), \quad dz = \delta h \odot (h_{t-1} - n), \quad
        da^n = dn \odot (1 - n^2)

        dr = da^n \odot v^n, \quad dv^n = da^n \odot r, \quad
        da^r = dr \odot r(1-r), \quad da^z = dz \odot z(1-z)

        du = [da^r, da^z, da^n], \quad dv = [da^r, da^z, dv^n], \quad
        \delta h_{t-1} = \delta h \odot z + dv\, W_{hh}^\top

    Shapes: x (N, T, D), w_ih (D, 3H), w_hh (H, 3H), b_ih and b_hh (3H,), out (N, T, H)
    or (N, H); state h (N, H). Same as ``torch.nn.GRU(D, H, batch_first=True)`` with
    ``w_ih = weight_ih_l0.T``, ``w_hh = weight_hh_l0.T``, ``b_ih = bias_ih_l0``,
    ``b_hh = bias_hh_l0``.

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

    gates = 3
    torch_biases = "both"

    def _forward_steps(self, xw, state0):
        T, N, _ = xw.shape
        H = self.hidden_size
        w_hh, b_hh = self.params["w_hh"], self.params["b_hh"]
        scale = np.full(2 * H, 0.5, dtype=xw.dtype)  # r and z are sigmoids
        hs = np.empty((T + 1, N, H), dtype=xw.dtype)  # h_0 .. h_T
        vn = np.empty((T, N, H), dtype=xw.dtype)  # v^n_t = h_{t-1} W_hn + b_hn, kept for backward
        hs[0] = state0[0]
        xw += self.params["b_ih"]  # u_t for all steps
        v = np.empty((N, 3 * H), dtype=xw.dtype)
        for t in range(T):
            u = xw[t]  # (N, 3H): becomes [r, z, n], kept for backward
            np.matmul(hs[t], w_hh, out=v)  # (N, H) @ (H, 3H) -> (N, 3H)
            v += b_hh
            rz = u[:, :2 * H]
            rz += v[:, :2 * H]
            sigmoid_tanh_inplace(rz, scale, scale)
            r, z, n = u[:, :H], u[:, H:2 * H], u[:, 2 * H:]
            vn[t] = v[:, 2 * H:]
            n += r * vn[t]
            np.tanh(n, out=n)
            h = hs[t + 1]
            np.subtract(hs[t], n, out=h)
            h *= z
            h += n  # h_t = n + z (h_{t-1} - n) = (1 - z) n + z h_{t-1}
        self.gates_, self.vn = xw, vn
        self.state_ = hs[T].copy()
        return hs

    def _backward_steps(self, dhs, final):
        hs, acts, vn = self.hs, self.gates_, self.vn
        w_hh = self.params["w_hh"]
        T, N, H = vn.shape
        du = np.empty((T, N, 3 * H), dtype=hs.dtype)  # dL/du_t (input side)
        dv = np.empty((T, N, 3 * H), dtype=hs.dtype)  # dL/dv_t (hidden side)
        dh = final[0]
        for t in range(T - 1, -1, -1):
            if dhs is not None:
                dh += dhs[t]
            r, z, n = acts[t, :, :H], acts[t, :, H:2 * H], acts[t, :, 2 * H:]
            dar, daz, dan = du[t, :, :H], du[t, :, H:2 * H], du[t, :, 2 * H:]
            np.multiply(dh, 1 - z, out=dan)  # dL/dn
            dan *= 1 - n * n  # through tanh
            np.multiply(dh, hs[t] - n, out=daz)  # dL/dz
            daz *= z * (1 - z)
            np.multiply(dan, vn[t], out=dar)  # dL/dr
            dar *= r * (1 - r)
            dv[t, :, :2 * H] = du[t, :, :2 * H]
            np.multiply(dan, r, out=dv[t, :, 2 * H:])  # dL/dv^n
            dh_prev = dh * z  # through h_t = ... + z h_{t-1}
            dh_prev += dv[t] @ w_hh.T  # (N, 3H) @ (3H, H) -> (N, H)
            dh = dh_prev
        dv2 = dv.reshape(T * N, 3 * H)
        np.matmul(hs[:T].reshape(T * N, H).T, dv2, out=self.grads["w_hh"])  # (H, T*N) @ (T*N, 3H)
        np.sum(dv2, axis=0, out=self.grads["b_hh"])
        np.sum(du.reshape(T * N, 3 * H), axis=0, out=self.grads["b_ih"])
        return du, [dh]
