"""The instructor's grader behind ``nnlearn grade``.

Designed against the known weaknesses of notebook graders:

* **Verdicts are computed outside the student's kernel.** The student's function
  is called on hidden inputs in the kernel, only plain arrays come back
  (``np.load(allow_pickle=False)``), and :func:`nnlearn.exercises.compare.compare`
  judges them in the grader's process against outputs of the reference solution,
  which never enter the kernel. Monkeypatching, always-equal objects, skipped or
  rewritten test cells and printed "All tests passed" earn nothing.
* **Hidden inputs come from the instructor's seed** at grading time
  (``--seed``, plus ``--tests DIR``), so hard-coding published outputs earns nothing.
* **Each kernel runs in a bubblewrap sandbox** (:mod:`.isolation`): own PID,
  IPC and network namespaces, a read-only file system without the solutions,
  hidden tests, exercise specs (the check cells get their public tests as data,
  :mod:`nnlearn.exercises.public`), other submissions or the grader's outputs,
  no capabilities, and memory / file-size / process limits that hold even when grading as root.
  ``--no-sandbox`` (macOS, Windows, no bwrap) says "not isolated" everywhere.
* **A batch always finishes.** Timeouts, crashes and memory blow-ups cost the
  exercise they hit; a dead or stuck worker costs one submission
  (:mod:`.pool`); Ctrl-C writes the gradebook of what finished (``--resume``).
* **Parallel**: one fresh kernel per submission, ``--jobs`` worker processes.
* **Feedback never leaks** hidden inputs or the reference solution, and reports
  carry no control characters or spreadsheet formulas.

Modules, in pipeline order: :mod:`.notebook` (read and rebuild submissions),
:mod:`.cases` (hidden inputs), :mod:`.isolation` (the bwrap command line),
:mod:`.sandbox` (one limited kernel), :mod:`.kernel_code` (what runs inside it),
:mod:`.runner` (one submission with restarts), :mod:`.results` (its
outputs, read defensively), :mod:`.pool` (workers that
survive their jobs), :mod:`.scoring` (verdicts), :mod:`.batch` (the run),
:mod:`.report` (gradebook, feedback, summary) and :mod:`.cli`.
"""
