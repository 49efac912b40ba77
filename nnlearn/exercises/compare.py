"""Compare a function's output with the expected one; move outputs between processes.

Used by ``check()`` (public tests in the notebook) and by the instructor's grader
(hidden tests), so both judge outputs the same way.

An *output* is a NumPy array, a number (bool, int, float, complex, NumPy scalar),
a string, None, or a tuple / list / dict (str keys) of outputs.

:func:`compare` checks, in this order: the type and structure, the shape, the
kind of dtype (bool / integer / floating-point / complex; the precision is not
checked), and the values (``np.isclose(received, expected, rtol, atol)`` for
floats, exact equality otherwise; NaN matches NaN). A NaN or inf received where a
finite value is expected is reported first: ``"output: received nan at [1, 0] ..."``.

:func:`to_plain` / :func:`from_plain` flatten an output to named arrays that
survive ``np.savez`` and ``np.load(allow_pickle=False)``: no objects, no ndarray
subclasses, nothing whose ``__eq__`` could lie.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

STRUCTURE_KEY = "__structure__"
_NUMERIC_KINDS = "biufc"
_KIND_NAMES = {"b": "bool", "i": "integer", "f": "floating-point", "c": "complex", "U": "string"}
_MAX_DEPTH = 32
_PYTHON_NUMBERS = {"bool": bool, "int": int, "float": float, "complex": complex}


def _kind(array: np.ndarray) -> str:
    """dtype kind with signed and unsigned integers merged."""
    return "i" if array.dtype.kind == "u" else array.dtype.kind


def _is_number(value: Any) -> bool:
    return isinstance(value, (bool, int, float, complex, np.number, np.bool_))


def _fmt(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    return str(value)


def _items(n: int) -> str:
    return "1 item" if n == 1 else f"{n} items"


def _describe(value: Any) -> str:
    """A few words about a received value's type, e.g. 'a list of 3 items'."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"a NumPy array of shape {value.shape} (dtype {value.dtype})"
    if isinstance(value, (tuple, list, dict)):
        return f"a {type(value).__name__} of {_items(len(value))}"
    if isinstance(value, (bool, np.bool_)):
        return f"the bool {value}"
    if _is_number(value):
        return f"the {type(value).__name__} {_fmt(value)}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    return f"an object of type {type(value).__name__}"


def _expected_kind(expected: Any) -> str:
    if isinstance(expected, np.ndarray):
        return f"a NumPy array of shape {expected.shape}"
    if isinstance(expected, (tuple, list)):
        return f"a {type(expected).__name__} of {_items(len(expected))}"
    if isinstance(expected, dict):
        return f"a dict with keys {list(expected)}"
    if isinstance(expected, str):
        return "a string"
    return f"a single {_KIND_NAMES[_kind(np.asarray(expected))]} number"


# -- compare ---------------------------------------------------------------------------------


def compare(
    expected: Any,
    received: Any,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    *,
    names: Sequence[str] | None = None,
) -> str | None:
    """Compare ``received`` with ``expected``; None if they match, else a short message.

    ``names`` optionally labels the items of a tuple/list output (``("dx", "dw", "db")``).
    The message starts with where the difference is (``"output"``, ``"output[1]"``,
    ``"output['w']"`` or a name), then says what differs, e.g.
    ``"dw: shape: expected (3, 2), received (2, 3)"``.
    """
    return _compare(expected, received, float(rtol), float(atol), "output", names, 0)


def _compare(expected, received, rtol, atol, path, names, depth) -> str | None:
    if depth > _MAX_DEPTH:
        raise ValueError(f"{path}: output nested more than {_MAX_DEPTH} levels deep")
    if expected is None:
        return None if received is None else f"{path}: expected None, received {_describe(received)}"
    if isinstance(expected, dict):
        if not isinstance(received, dict):
            return f"{path}: expected {_expected_kind(expected)}, received {_describe(received)}"
        missing = [k for k in expected if k not in received]
        extra = [k for k in received if k not in expected]
        if missing or extra:
            parts = [f"missing keys {missing}" if missing else "", f"extra keys {extra}" if extra else ""]
            return f"{path}: {', '.join(p for p in parts if p)}"
        for key, value in expected.items():
            message = _compare(value, received[key], rtol, atol, f"{path}[{key!r}]", None, depth + 1)
            if message:
                return message
        return None
    if isinstance(expected, (tuple, list)):
        if not isinstance(received, (tuple, list)):
            return f"{path}: expected {_expected_kind(expected)}, received {_describe(received)}"
        if len(received) != len(expected):
            return (
                f"{path}: expected a {type(expected).__name__} of {_items(len(expected))}, "
                f"received {_describe(received)}"
            )
        labels = list(names) if names and len(names) == len(expected) else None
        for i, (e, r) in enumerate(zip(expected, received, strict=True)):
            item = labels[i] if labels else f"{path}[{i}]"
            message = _compare(e, r, rtol, atol, item, None, depth + 1)
            if message:
                return message
        return None
    if isinstance(expected, str):
        if type(received) not in (str, np.str_):
            return f"{path}: expected a string, received {_describe(received)}"
        if str.__eq__(str(expected), str.__str__(received)):
            return None
        return f"{path}: expected {expected!r}, received {str.__str__(received)!r}"
    if isinstance(expected, np.ndarray):
        scalar = expected.ndim == 0 and _is_number(received)
        if not isinstance(received, np.ndarray) and not scalar:
            return f"{path}: expected {_expected_kind(expected)}, received {_describe(received)}"
        return _compare_arrays(np.asarray(expected), np.asarray(received), rtol, atol, path)
    if _is_number(expected):
        scalar = _is_number(received) or (isinstance(received, np.ndarray) and received.ndim == 0)
        if not scalar:
            return f"{path}: expected {_expected_kind(expected)}, received {_describe(received)}"
        return _compare_arrays(np.asarray(expected), np.asarray(received), rtol, atol, path)
    raise TypeError(f"compare() cannot handle an expected {path} of type {type(expected).__name__}")


def _compare_arrays(expected: np.ndarray, received: np.ndarray, rtol, atol, path) -> str | None:
    if received.shape != expected.shape:
        return f"{path}: shape: expected {expected.shape}, received {received.shape}"
    ek, rk = _kind(expected), _kind(received)
    if rk not in _NUMERIC_KINDS + "U" or rk != ek:
        return f"{path}: dtype: expected {_KIND_NAMES.get(ek, ek)} values, received {received.dtype}"
    if ek in "fc":
        with np.errstate(invalid="ignore", over="ignore"):
            close = np.isclose(received, expected, rtol=rtol, atol=atol, equal_nan=True)
    else:
        close = received == expected
    if close.all():
        return None
    wrong = np.argwhere(~close)
    first = tuple(int(i) for i in wrong[0])
    e, r = expected[first], received[first]
    if expected.ndim == 0:
        return f"{path}: expected {_fmt(e)}, received {_fmt(r)}"
    where = f"first at [{', '.join(map(str, first))}]: expected {_fmt(e)}, received {_fmt(r)}"
    count = f"values differ at {len(wrong)} of {expected.size} entries"
    if ek in "bi":
        return f"{path}: {count}; {where}"
    broken = ~np.isfinite(received) & np.isfinite(expected)  # nan or inf where a number belongs
    if broken.any():
        bad = np.argwhere(broken)
        at = tuple(int(i) for i in bad[0])
        return (f"{path}: received {_fmt(received[at])} at [{', '.join(map(str, at))}] "
                f"(expected {_fmt(expected[at])}); {len(bad)} of {expected.size} entries "
                "are nan or inf")
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(received.astype(np.complex128 if ek == "c" else np.float64) - expected)
    diff = np.where(np.isnan(diff), np.inf, diff)[~close]
    return f"{path}: {count} (max abs difference {_fmt(diff.max())}); {where}"


# -- plain data ------------------------------------------------------------------------------


def to_plain(value: Any) -> dict[str, np.ndarray]:
    """Flatten an output to ``{name: ndarray}`` for ``np.savez`` (no pickling needed).

    Leaves become plain ``np.ndarray`` copies of bool / integer / float / complex
    (or str) dtype; the structure is stored as JSON text under ``"__structure__"``,
    with the type of Python numbers (``2`` comes back as ``int``, ``np.int64(2)`` as
    ``np.int64``). Anything else (objects, object arrays, non-str dict keys) raises TypeError.
    """
    arrays: dict[str, np.ndarray] = {}
    structure = _encode(value, arrays, "output", 0)
    arrays[STRUCTURE_KEY] = np.array(json.dumps(structure))
    return arrays


def _encode(value: Any, arrays: dict[str, np.ndarray], path: str, depth: int) -> dict:
    if depth > _MAX_DEPTH:
        raise TypeError(f"{path}: output nested more than {_MAX_DEPTH} levels deep")
    if value is None:
        return {"type": "none"}
    if isinstance(value, (tuple, list)):
        items = [_encode(v, arrays, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
        return {"type": "tuple" if isinstance(value, tuple) else "list", "items": items}
    if isinstance(value, dict):
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            raise TypeError(f"{path}: dict keys must be strings. Got {bad[0]!r}.")
        items = [[str(k), _encode(v, arrays, f"{path}[{k!r}]", depth + 1)] for k, v in value.items()]
        return {"type": "dict", "items": items}
    python = None
    if isinstance(value, np.ndarray):
        kind, array = "array", np.array(value, subok=False)
    elif _is_number(value):
        kind, array = "scalar", np.array(value)
        if type(value) in _PYTHON_NUMBERS.values():  # comes back as int, not np.int64
            python = type(value).__name__
    elif isinstance(value, str):
        kind, array = "str", np.array(str.__str__(value))
    else:
        raise TypeError(
            f"{path} has type {type(value).__name__}; outputs must be NumPy arrays, numbers, "
            "strings, None, or tuples / lists / dicts of these."
        )
    allowed = "U" if kind == "str" else _NUMERIC_KINDS
    if array.dtype.kind not in allowed:
        raise TypeError(f"{path} has dtype {array.dtype}; only bool and numeric dtypes are allowed.")
    key = f"a{len(arrays)}"
    arrays[key] = array
    return {"type": kind, "key": key, **({"python": python} if python else {})}


def from_plain(arrays: Mapping[str, np.ndarray]) -> Any:
    """Rebuild an output from :func:`to_plain`'s arrays (e.g. an ``np.load`` result).

    Validates everything: unknown structure, missing or unused arrays, object
    dtypes or ndarray subclasses raise ValueError.
    """
    if STRUCTURE_KEY not in arrays:
        raise ValueError(f"plain output has no {STRUCTURE_KEY!r} entry")
    text = _leaf(arrays, STRUCTURE_KEY, "U")
    if text.shape != ():
        raise ValueError(f"plain output: {STRUCTURE_KEY!r} must be a 0-d string array")
    try:
        structure = json.loads(str(text[()]))
    except (json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"plain output: invalid structure ({error})") from None
    used: set[str] = set()
    value = _decode(structure, arrays, used, 0)
    unused = set(arrays) - used - {STRUCTURE_KEY}
    if unused:
        raise ValueError(f"plain output: unexpected arrays {sorted(unused)}")
    return value


def _leaf(arrays: Mapping[str, np.ndarray], key: Any, kinds: str) -> np.ndarray:
    if not isinstance(key, str) or key not in arrays:
        raise ValueError(f"plain output: missing array {key!r}")
    array = arrays[key]
    if type(array) is not np.ndarray or array.dtype.kind not in kinds:
        raise ValueError(f"plain output: array {key!r} is not a plain {kinds!r}-kind ndarray")
    return array


def _decode(node: Any, arrays: Mapping[str, np.ndarray], used: set[str], depth: int) -> Any:
    if depth > _MAX_DEPTH or not isinstance(node, dict) or not isinstance(node.get("type"), str):
        raise ValueError(f"plain output: invalid structure node {str(node)[:60]}")
    kind = node["type"]
    if kind == "none":
        return None
    if kind in ("tuple", "list", "dict"):
        items = node.get("items")
        if not isinstance(items, list):
            raise ValueError(f"plain output: {kind} node without items")
        if kind == "dict":
            if not all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in items):
                raise ValueError("plain output: invalid dict items")
            return {k: _decode(v, arrays, used, depth + 1) for k, v in items}
        values = [_decode(v, arrays, used, depth + 1) for v in items]
        return tuple(values) if kind == "tuple" else values
    if kind not in ("array", "scalar", "str"):
        raise ValueError(f"plain output: unknown node type {kind[:30]!r}")
    key = node.get("key")
    array = _leaf(arrays, key, "U" if kind == "str" else _NUMERIC_KINDS)
    if key in used:
        raise ValueError(f"plain output: array {key!r} used twice")
    used.add(key)
    if kind == "array":
        return array
    if array.shape != ():
        raise ValueError(f"plain output: {kind} {key!r} must be 0-d, got shape {array.shape}")
    if kind == "str":
        return str(array[()])
    python = node.get("python")
    if python is None:
        return array[()]
    value = array[()].item()
    if not isinstance(python, str) or _PYTHON_NUMBERS.get(python) is not type(value):
        raise ValueError(f"plain output: scalar {key!r} is not a Python {str(python)[:30]}")
    return value
