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
* **One dead kernel costs one exercise.** Timeouts, crashes and memory blow-ups
  are attributed to the exercise they hit; the grader restarts and goes on.
* **Parallel**: one fresh kernel per submission, ``--jobs`` worker processes.
* **Feedback never leaks** hidden inputs or the reference solution.

POSIX only (Linux, macOS): the sandbox relies on resource limits, process
groups and ``O_NOFOLLOW``.

Modules, in pipeline order: :mod:`.notebook` (read and rebuild submissions),
:mod:`.cases` (hidden inputs), :mod:`.sandbox` (one limited kernel),
:mod:`.kernel_code` (what runs inside it), :mod:`.runner` (one submission with
restarts), :mod:`.scoring` (verdicts), :mod:`.batch` (the parallel run),
:mod:`.report` (gradebook, feedback, summary) and :mod:`.cli`.
"""
