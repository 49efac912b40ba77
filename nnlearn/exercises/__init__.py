'''Exercises: one solved source, generated student notebooks, instant feedback.

``solutions/NN_topic.ipynb`` is the single source. ``nnlearn make-exercises``
turns it into ``exercises/NN_topic.ipynb``: every solution becomes
``raise NotImplementedError("Exercise N.M: <function>: <title>")``. After each
exercise a check cell, ``check("topic.function", function)``, runs public tests
and prints ``✓ function passed 5 public tests`` or raises a short verdict (which
case failed, expected vs received, a guess at the mistake such as "received =
expected / N: a mean where a sum belongs?", a hint). The instructor's grader runs hidden
cases (other seeds) of the same specs. The format is compatible with nbgrader
(cell metadata schema v3), so ``nbgrader generate_assignment`` / ``autograde``
work on the solution notebooks too.

Modules: ``registry`` (Exercise specs), ``compare`` (output comparison and plain
data, shared with the grader), ``check`` and ``feedback`` (public tests),
``notebook`` (format, validation, stable I/O), ``authoring`` (building
notebooks), ``generate`` (the ``make-exercises`` command).

How to write an exercise
========================

1. **A spec**, in ``nnlearn/exercises/specs/<topic>.py`` (topic = notebook name
   without the number: ``03_backprop`` -> ``backprop``). Register the exercises in
   notebook order::

       """Exercises of lesson 03_backprop."""

       import numpy as np

       from nnlearn.exercises.registry import Exercise, register


       def _dense_backward_cases(rng):
           cases = []
           for N, D, M in [(1, 1, 1), (4, 3, 2), (int(rng.integers(2, 9)), 5, 3)]:
               cases.append({
                   "dout": rng.standard_normal((N, M)),
                   "x": rng.standard_normal((N, D)),
                   "w": rng.standard_normal((D, M)),
               })
           return cases


       def _dense_backward(dout, x, w):
           return dout @ w.T, x.T @ dout, dout.sum(axis=0)


       register(
           Exercise(
               id="backprop.dense_backward",     # "<topic>.<function the student defines>"
               title="return dx, dw and db of out = x @ w + b",   # one line
               make_cases=_dense_backward_cases, # rng -> list of keyword-argument dicts
               reference=_dense_backward,        # may simply call nnlearn
               output_names=("dx", "dw", "db"),  # optional: names in feedback
               hint="db sums dout over the batch axis.",  # optional; no code
           ),
       )

   Rules: the function is *pure*: it takes the case's keys as keyword arguments
   and returns its result (an array, number, bool, string, None, or a
   tuple/list/dict of these); nothing in place, no classes. ``make_cases``
   draws only from the ``rng`` it gets (hidden tests use other seeds, so sizes
   or values must come from it), returns 3-6 small cases of plain data (arrays,
   numbers, strings, tuples/lists/dicts of these; float64 for gradients; tests
   must be fast), and may include fixed edge cases (zeros, large logits,
   N = 1). Set ``rtol``/``atol`` if 1e-5/1e-7 is too tight (float32 work).
   Hints guide; they never give the code away. ``tests/test_exercise_format.py``
   checks every registered spec against these rules.

2. **The solution notebook**, from a throwaway script. The solution cell's
   source is exactly what the notebook cell shows::

       def dense_backward(dout, x, w):
           """Gradients of out = x @ w + b; dout (N, M), x (N, D), w (D, M)."""
           ### BEGIN SOLUTION
           dx = dout @ w.T  # (N, M) @ (M, D) -> (N, D)
           dw = x.T @ dout  # (D, N) @ (N, M) -> (D, M)
           db = dout.sum(axis=0)  # (M,)
           return dx, dw, db
           ### END SOLUTION

   Put it in a string ``DENSE_BACKWARD`` (triple single quotes; it is dedented) and::

       from nnlearn.exercises.authoring import (
           check_cell, code_cell, markdown_cell, new_solution_notebook, solution_cell,
       )
       from nnlearn.exercises.notebook import write_notebook

       cells = [
           markdown_cell("# 3. Backpropagation"),
           code_cell("import numpy as np\\n\\nfrom nnlearn.exercises import check"),
           markdown_cell("## Exercise 3.1: the backward pass of a dense layer ..."),
           solution_cell(DENSE_BACKWARD, "dense_backward"),
           check_cell("backprop.dense_backward", points=2),
           code_cell("print(dense_backward(...))", tags=["solution-only"]),  # not in exercises/
       ]
       nb = new_solution_notebook(cells, "03_backprop")  # validates; raises listing problems
       write_notebook(nb, "solutions/03_backprop.ipynb")

   A complete, tested example: ``tests/fixtures/exercise_specs/demo.py`` and
   ``tests/fixtures/build_demo_notebook.py``.

   Per exercise: one ``solution_cell`` whose markers are inside
   ``def <function>`` (the signature and docstring stay visible to students),
   then its ``check_cell``. Everything outside the markers is shown to
   students. Cells tagged ``solution-only`` or ``remove`` are dropped from the
   exercise notebook. Editing the notebook in Jupyter is fine too: keep the
   nbgrader metadata, run ``validate_notebook``.

3. **Generate and test**: ``nnlearn make-exercises`` (writes ``exercises/``;
   ``--check`` only compares), then ``pytest tests/test_exercise_format.py``,
   which checks every ``solutions/*.ipynb``: sync, stubs, checks, nbgrader.

Exercise numbers: ``N`` comes from the file name (``03_`` -> 3), ``M`` is the
order of the solution cells. Extra spec folders (an instructor's own exercises)
can be listed in ``NNLEARN_EXERCISE_SPECS``.
'''

from nnlearn.exercises.check import check
from nnlearn.exercises.compare import compare, from_plain, to_plain
from nnlearn.exercises.feedback import CheckFailed
from nnlearn.exercises.registry import (
    PUBLIC_SEED,
    Exercise,
    exercises_for,
    get_exercise,
    register,
)

__all__ = [
    "PUBLIC_SEED",
    "CheckFailed",
    "Exercise",
    "check",
    "compare",
    "exercises_for",
    "from_plain",
    "get_exercise",
    "register",
    "to_plain",
]
