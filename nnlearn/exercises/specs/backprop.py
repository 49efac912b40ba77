"""Exercises of lesson 03_backprop: losses, dense layers and a two-layer net, backward by hand.

The references call nnlearn (losses, layers), so each exercise is checked
against the library's own implementation, never against the solution notebook.
"""

from __future__ import annotations

import numpy as np

from nnlearn.autograd import Value
from nnlearn.exercises.registry import Exercise, register
from nnlearn.layers import Dense, Sigmoid, Tanh
from nnlearn.losses import MSE, BinaryCrossEntropyWithLogits


def _labels(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Random 0/1 labels as float64 (both classes present when there are >= 2 entries)."""
    y = rng.integers(0, 2, size=shape).astype(np.float64)
    if y.size >= 2:
        y.flat[0], y.flat[1] = 0.0, 1.0
    return y


# -- 3.1 mse_loss ----------------------------------------------------------------------------
def _mse_cases(rng: np.random.Generator) -> list[dict]:
    N = int(rng.integers(3, 9))
    y_equal = rng.standard_normal((4, 1))
    return [
        {"out": rng.standard_normal((N, 1)), "y": rng.standard_normal((N, 1))},
        {"out": rng.standard_normal((1, 1)), "y": rng.standard_normal((1, 1))},  # N = 1
        {"out": rng.standard_normal((N, 3)), "y": rng.standard_normal((N, 3))},  # D = 3 outputs
        {"out": y_equal.copy(), "y": y_equal.copy()},  # a perfect prediction
    ]


def _mse(out: np.ndarray, y: np.ndarray) -> tuple:
    loss = MSE()
    value = loss(out, y)
    return value, loss.backward()


# -- 3.2 bce_with_logits ---------------------------------------------------------------------
def _bce_cases(rng: np.random.Generator) -> list[dict]:
    N = int(rng.integers(3, 9))
    big = float(rng.integers(500, 1000))
    return [
        {"z": 2 * rng.standard_normal((N, 1)), "y": _labels(rng, (N, 1))},
        {"z": rng.standard_normal((1, 1)), "y": _labels(rng, (1, 1))},  # N = 1
        {"z": np.zeros((4, 1)), "y": _labels(rng, (4, 1))},  # p = 0.5 everywhere
        {"z": 3 * rng.standard_normal(N), "y": _labels(rng, (N,))},  # shape (N,)
        # Huge logits, confidently right and confidently wrong: exp must not overflow.
        {"z": np.array([[big], [-big], [big], [-big]]), "y": np.array([[1.0], [0.0], [0.0], [1.0]])},
    ]


def _bce(z: np.ndarray, y: np.ndarray) -> tuple:
    loss = BinaryCrossEntropyWithLogits()
    value = loss(z, y)
    return value, loss.backward()


# -- 3.3 bce_numerical_gradient ----------------------------------------------------------------
def _numgrad_cases(rng: np.random.Generator) -> list[dict]:
    N = int(rng.integers(3, 9))
    return [
        {"z": rng.standard_normal((N, 1)), "y": _labels(rng, (N, 1)), "eps": 1e-6},
        {"z": rng.standard_normal((1, 1)), "y": _labels(rng, (1, 1)), "eps": 1e-6},
        # A large step: only central differences (error ~ eps**2) are still accurate.
        {"z": rng.standard_normal((N, 1)), "y": _labels(rng, (N, 1)), "eps": 1e-3},
        {"z": 2 * rng.standard_normal((3, 2)), "y": _labels(rng, (3, 2)), "eps": 1e-5},
    ]


def _numgrad(z: np.ndarray, y: np.ndarray, eps: float) -> np.ndarray:
    loss = BinaryCrossEntropyWithLogits()
    loss(z, y)
    return loss.backward()  # the exact gradient the central differences approximate


# -- 3.4 dense_forward -----------------------------------------------------------------------
def _dense_forward_cases(rng: np.random.Generator) -> list[dict]:
    cases = []
    for N, D, M in [(1, 1, 1), (4, 3, 2), (int(rng.integers(2, 9)), 2, 10), (5, 10, 1)]:
        cases.append({
            "x": rng.standard_normal((N, D)),
            "w": rng.standard_normal((D, M)),
            "b": rng.standard_normal(M),
        })  # fmt: skip
    return cases


def _dense_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    layer = _dense_with(w, b)
    return layer.forward(x)


def _dense_with(w: np.ndarray, b: np.ndarray) -> Dense:
    """An nnlearn Dense layer in float64 holding the given weights."""
    layer = Dense(*w.shape, rng=0).astype(np.float64)
    layer.params["w"][...] = w
    layer.params["b"][...] = b
    return layer


# -- 3.5 dense_backward ----------------------------------------------------------------------
def _dense_backward_cases(rng: np.random.Generator) -> list[dict]:
    cases = []
    for N, D, M in [(1, 1, 1), (4, 3, 2), (int(rng.integers(2, 9)), 2, 10), (6, 5, 1)]:
        cases.append({
            "dout": rng.standard_normal((N, M)),
            "x": rng.standard_normal((N, D)),
            "w": rng.standard_normal((D, M)),
        })  # fmt: skip
    return cases


def _dense_backward(dout: np.ndarray, x: np.ndarray, w: np.ndarray) -> tuple:
    layer = _dense_with(w, np.zeros(w.shape[1]))
    layer.forward(x)
    dx = layer.backward(dout)
    return dx, layer.grads["w"].copy(), layer.grads["b"].copy()


# -- 3.6 two_layer_backward ------------------------------------------------------------------
def _two_layer_cases(rng: np.random.Generator) -> list[dict]:
    cases = []
    for N, D, H in [(1, 2, 1), (4, 2, 3), (int(rng.integers(3, 9)), 2, 5), (6, 3, 4)]:
        cases.append({
            "x": rng.standard_normal((N, D)),
            "y": _labels(rng, (N, 1)),
            "w1": rng.standard_normal((D, H)),
            "b1": 0.1 * rng.standard_normal(H),
            "w2": rng.standard_normal((H, 1)),
            "b2": 0.1 * rng.standard_normal(1),
        })  # fmt: skip
    return cases


def _two_layer(x, y, w1, b1, w2, b2) -> tuple:
    dense1, act, dense2 = _dense_with(w1, b1), Tanh(), _dense_with(w2, b2)
    loss = BinaryCrossEntropyWithLogits()
    value = loss(dense2.forward(act.forward(dense1.forward(x))), y)
    dense1.backward(act.backward(dense2.backward(loss.backward())))
    grads = {"w1": dense1.grads["w"], "b1": dense1.grads["b"],
             "w2": dense2.grads["w"], "b2": dense2.grads["b"]}  # fmt: skip
    return value, {key: g.copy() for key, g in grads.items()}


register(
    Exercise(
        id="backprop.mse_loss",
        title="return the mean squared error and its gradient d(loss)/d(out)",
        make_cases=_mse_cases,
        reference=_mse,
        output_names=("loss", "dout"),
        hint="The mean runs over all out.size entries, and so does the 1/M in the gradient "
        "2 (out - y) / M.",
    ),
    Exercise(
        id="backprop.bce_with_logits",
        title="return the binary cross-entropy of logits z and its gradient (p - y) / N",
        make_cases=_bce_cases,
        reference=_bce,
        output_names=("loss", "dz"),
        hint="Use the stable form max(z, 0) - z*y + log1p(exp(-|z|)): it never exponentiates a "
        "positive number and never takes log(0). Divide by the number of entries z.size.",
    ),
    Exercise(
        id="backprop.bce_numerical_gradient",
        title="approximate d(loss)/dz by central differences",
        make_cases=_numgrad_cases,
        reference=_numgrad,
        hint="For each entry i: (f(z with z[i] + eps) - f(z with z[i] - eps)) / (2 eps), "
        "restoring z[i] afterwards. A one-sided difference (f(z + eps) - f(z)) / eps is "
        "not accurate enough with eps = 1e-3.",
    ),
    Exercise(
        id="backprop.dense_forward",
        title="return out = x @ w + b",
        make_cases=_dense_forward_cases,
        reference=_dense_forward,
        hint="x is (N, D) and w is (D, M); b of shape (M,) is added to every row.",
    ),
    Exercise(
        id="backprop.dense_backward",
        title="return dx, dw and db of out = x @ w + b",
        make_cases=_dense_backward_cases,
        reference=_dense_backward,
        output_names=("dx", "dw", "db"),
        hint="Match the shapes: dx like x (N, D), dw like w (D, M), db like b (M,). "
        "db sums dout over the batch axis.",
    ),
    Exercise(
        id="backprop.two_layer_backward",
        title="return the loss and the gradients of a Dense-tanh-Dense net with BCE on logits",
        make_cases=_two_layer_cases,
        reference=_two_layer,
        output_names=("loss", "grads"),
        hint="Go backwards one step at a time: dz = (sigmoid(z) - y) / N, then dw2, db2 and dh "
        "through the second dense layer, then tanh' = 1 - h**2, then dw1, db1.",
    ),
)


# -- 3.7 backpropagation on a graph (the autograd engine's backward) ---------------------------

_OPS = ("add", "mul", "tanh", "relu")


def _forward_graph(ops: list[str], args: list[list[int]], inputs: dict[int, float]) -> list[Value]:
    """Build the graph with nnlearn.autograd: node i computes ops[i] of the nodes args[i]."""
    nodes: list[Value] = []
    for i, (op, parents) in enumerate(zip(ops, args, strict=True)):
        if op == "input":
            nodes.append(Value(inputs[i]))
        elif op == "add":
            nodes.append(nodes[parents[0]] + nodes[parents[1]])
        elif op == "mul":
            nodes.append(nodes[parents[0]] * nodes[parents[1]])
        else:  # tanh or relu of one parent
            nodes.append(getattr(nodes[parents[0]], op)())
    return nodes


def _random_graph(rng: np.random.Generator, n_inputs: int, n_ops: int) -> dict:
    ops, args = ["input"] * n_inputs, [[] for _ in range(n_inputs)]
    for _ in range(n_ops):
        op = _OPS[int(rng.integers(len(_OPS)))]
        k = len(ops)
        if op in ("add", "mul"):  # one parent is always the newest node: the graph is connected
            args.append([k - 1, int(rng.integers(k))])
        else:
            args.append([k - 1])
        ops.append(op)
    inputs = {i: float(rng.uniform(-1.5, 1.5)) for i in range(n_inputs)}
    values = np.array([v.data for v in _forward_graph(ops, args, inputs)])
    return {"ops": ops, "args": args, "values": values}


def _graph_cases(rng: np.random.Generator) -> list[dict]:
    # the lesson's neuron without its loss: out = tanh(w1 x1 + w2 x2 + b)
    ops = ["input", "input", "input", "input", "input", "mul", "mul", "add", "add", "tanh"]
    args = [[], [], [], [], [], [0, 1], [2, 3], [5, 6], [7, 4], [8]]
    inputs = dict(enumerate([0.5, 1.0, -0.3, -2.0, 0.1]))
    values = np.array([v.data for v in _forward_graph(ops, args, inputs)])
    square = {"ops": ["input", "mul", "relu"], "args": [[], [0, 0], [1]], "values": np.array([-1.5, 2.25, 2.25])}
    return [
        {"ops": ops, "args": args, "values": values},
        square,  # x * x: one node used twice, two gradient contributions
        _random_graph(rng, 2, 5),
        _random_graph(rng, 3, int(rng.integers(8, 14))),
    ]


def _graph_backward(ops: list[str], args: list[list[int]], values: np.ndarray) -> np.ndarray:
    inputs = {i: float(values[i]) for i, op in enumerate(ops) if op == "input"}
    nodes = _forward_graph(ops, args, inputs)
    nodes[-1].backward()
    return np.array([node.grad for node in nodes])


# -- 3.8 MSE through a sigmoid (derive it) -----------------------------------------------------


def _sigmoid_mse_cases(rng: np.random.Generator) -> list[dict]:
    N = int(rng.integers(3, 9))
    return [
        {"z": rng.standard_normal((N, 1)), "y": _labels(rng, (N, 1))},
        {"z": np.array([[0.0]]), "y": np.array([[1.0]])},  # p = 0.5
        {"z": 3 * rng.standard_normal((N, 2)), "y": _labels(rng, (N, 2))},
        {"z": np.array([[8.0], [-8.0]]), "y": np.array([[0.0], [1.0]])},  # confident and wrong
    ]


def _sigmoid_mse(z: np.ndarray, y: np.ndarray) -> tuple:
    sigmoid, loss = Sigmoid(), MSE()
    value = loss(sigmoid.forward(z), y)
    return value, sigmoid.backward(loss.backward())  # dL/dp * p (1 - p)


register(
    Exercise(
        id="backprop.graph_backward",
        title="backpropagate through a graph of add, mul, tanh and relu nodes",
        make_cases=_graph_cases,
        reference=_graph_backward,
        hint="Start with grads[-1] = 1 and visit the nodes from the last to the first; each "
        "node adds (its local derivative) * grads[node] into each parent — add, not assign: a "
        "node used twice (x * x) gets two contributions.",
    ),
    Exercise(
        id="backprop.sigmoid_mse",
        title="return the MSE of p = sigmoid(z) against y and its gradient dL/dz",
        make_cases=_sigmoid_mse_cases,
        reference=_sigmoid_mse,
        output_names=("loss", "dz"),
        hint="Chain rule, one factor per step: dL/dp of the mean of (p - y)**2 over all z.size "
        "entries, times dp/dz of the sigmoid.",
    ),
)
