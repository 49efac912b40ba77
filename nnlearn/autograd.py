"""A tiny scalar autograd engine: backpropagation on any graph, one number at a time.

Every :class:`Value` remembers the values it was computed from and how to pass a
gradient back to them. ``loss.backward()`` then visits the graph from the loss
to the leaves in reverse topological order, applying the chain rule at each node:

    grad of a parent += (local derivative of the node with respect to it) * node.grad

The ``+=`` matters: a value used twice (``x * x``) receives a gradient from
each use. This is what ``Dense.backward`` and friends do for whole arrays; here
it is spelled out for scalars, after Karpathy's *micrograd*. It is for teaching
and checking, not for speed (a Python object per number).

Example
-------
>>> x, w, b = Value(2.0), Value(-3.0), Value(1.0)
>>> out = (x * w + b).tanh()
>>> out.backward()
>>> round(w.grad, 6)  # d out / d w = (1 - tanh(x w + b)^2) * x
0.000363
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable


class Value:
    """A number in a computation graph, with the gradient ``grad`` of the final output.

    Parameters
    ----------
    data : float
        The number.
    parents : tuple of Value
        The values this one was computed from (empty for a leaf).
    op : str
        The operation that produced it (``""`` for a leaf), for printing.

    Supports ``+``, ``-``, ``*`` (with Values or plain numbers), ``x ** k`` for a
    constant number ``k``, :meth:`tanh`, :meth:`relu`, :meth:`exp` and :meth:`log`.
    """

    def __init__(self, data: float, parents: tuple[Value, ...] = (), op: str = "") -> None:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            raise TypeError(f"The 'data' parameter of Value must be a number. Got {type(data).__name__}.")
        self.data = float(data)
        self.grad = 0.0
        self.parents = parents
        self.op = op
        self._backward: Callable[[], None] = lambda: None  # adds self.grad into the parents

    def __repr__(self) -> str:
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    @staticmethod
    def _lift(other: Value | float) -> Value:
        return other if isinstance(other, Value) else Value(other)

    # -- operations: each sets out._backward to its local chain rule ----------------------------

    def __add__(self, other: Value | float) -> Value:
        other = self._lift(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward() -> None:  # d(a + b)/da = d(a + b)/db = 1
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other: Value | float) -> Value:
        other = self._lift(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward() -> None:  # d(a b)/da = b, d(a b)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, k: float) -> Value:
        if isinstance(k, Value) or isinstance(k, bool) or not isinstance(k, (int, float)):
            raise TypeError(f"Value ** k needs a constant number k. Got {type(k).__name__}.")
        out = Value(self.data**k, (self,), f"**{k:g}")

        def _backward() -> None:  # d(a^k)/da = k a^(k-1)
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward() -> None:  # tanh' = 1 - tanh^2
            self.grad += (1.0 - t * t) * out.grad

        out._backward = _backward
        return out

    def relu(self) -> Value:
        out = Value(max(self.data, 0.0), (self,), "relu")

        def _backward() -> None:  # relu' = 1 where the input is > 0, else 0
            self.grad += (self.data > 0) * out.grad

        out._backward = _backward
        return out

    def exp(self) -> Value:
        e = math.exp(self.data)
        out = Value(e, (self,), "exp")

        def _backward() -> None:  # exp' = exp
            self.grad += e * out.grad

        out._backward = _backward
        return out

    def log(self) -> Value:
        if self.data <= 0:
            raise ValueError(f"Value.log needs a positive number. Got {self.data!r}.")
        out = Value(math.log(self.data), (self,), "log")

        def _backward() -> None:  # log'(a) = 1 / a
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: Value | float) -> Value:
        return self + (-self._lift(other))

    def __radd__(self, other: float) -> Value:
        return self + other

    def __rmul__(self, other: float) -> Value:
        return self * other

    def __rsub__(self, other: float) -> Value:
        return self._lift(other) - self

    # -- backpropagation ----------------------------------------------------------------------

    def backward(self) -> None:
        """Fill ``grad`` of every value this one depends on with d(self)/d(value).

        Sets ``self.grad = 1`` and calls each node's local rule in reverse
        topological order (a node only after every node that uses it). Gradients
        accumulate: call :func:`zero_grad` before a second ``backward``.
        """
        self.grad = 1.0
        for node in reversed(topological_order(self)):
            node._backward()


def topological_order(root: Value) -> list[Value]:
    """Every value ``root`` depends on, each after its parents (leaves first, ``root`` last).

    Iterative depth-first search, so deep graphs do not hit Python's recursion limit.
    """
    order: list[Value] = []
    seen: set[int] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((parent, False) for parent in node.parents if id(parent) not in seen)
    return order


def zero_grad(values: Iterable[Value]) -> None:
    """Reset ``grad`` to 0 for every value of ``values`` and everything they depend on."""
    for value in values:
        for node in topological_order(value):
            node.grad = 0.0
