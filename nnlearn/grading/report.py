"""The gradebook (CSV), per-student feedback (Markdown or HTML) and the summary.

The gradebook is written to a temporary file in the destination directory and
moved into place with ``os.replace`` (atomic on POSIX and Windows), so a crash
or Ctrl-C mid-run leaves either the previous file or the new one, never half.

Feedback shows, per exercise: the points, how many hidden cases matched, the
names of exceptions the student's function raised on them, and the *public*
check cell's output. It never shows hidden inputs, reference outputs, the
comparison messages of hidden cases (they quote reference values) or the
reference solution.
"""

from __future__ import annotations

import csv
import html
import io
import os
import statistics
import tempfile
from pathlib import Path

from nnlearn.grading.scoring import SubmissionResult, gradebook_columns


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def write_gradebook(results: list[SubmissionResult], path: Path) -> None:
    """Write ``submission, assignment, <grade_id>..., total, max_total, status`` atomically."""
    columns = gradebook_columns(results)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["submission", "assignment", *columns, "total", "max_total", "status"])
    for r in results:
        points = {e.grade_id: e.points for e in r.exercises}
        max_total = r.max_total if r.exercises else None
        writer.writerow([r.submission, r.assignment or "", *(_fmt(points.get(c)) for c in columns),
                         _fmt(r.total), _fmt(max_total), r.status])
    atomic_write(path, buffer.getvalue())


def atomic_write(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` in one step (temp file in the same directory)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def feedback_names(results: list[SubmissionResult]) -> list[str]:
    """File stems for the feedback: the submission's stem, made unique if needed."""
    stems = [Path(r.submission).stem for r in results]
    names = []
    for r, stem in zip(results, stems, strict=True):
        if stems.count(stem) > 1:
            stem = f"{Path(r.submission).parent.name}__{stem}"
        while stem in names:
            stem += "_"
        names.append(stem)
    return names


def feedback_markdown(r: SubmissionResult) -> str:
    """One student's feedback as Markdown."""
    lines = [f"# Feedback: {Path(r.submission).name}", ""]
    if r.assignment:
        lines.append(f"Assignment: **{r.assignment}**  ")
    lines += [f"Score: **{_fmt(r.total)} / {_fmt(r.max_total)}**  ", f"Status: {r.status}", ""]
    for e in r.exercises:
        lines += [f"## {e.function}: {_fmt(e.points)} / {_fmt(e.max_points)} points", ""]
        if e.title and e.title != e.function:
            lines += [f"*{e.title}*", ""]
        if e.problem:
            lines.append(f"Not graded: {e.problem}.")
        else:
            lines.append(f"Hidden tests: {e.matched} of {e.n_cases} cases match the reference.")
            for name, count in sorted(e.case_errors.items()):
                lines.append(f"- {count} case(s) raised `{name}`")
        if e.points < e.max_points and e.hint:
            lines += ["", f"Hint: {e.hint}"]
        if e.public.strip():
            fence = "~~~~" if "```" in e.public else "```"
            lines += ["", "Public tests (your check cell):", "", fence + "text",
                      e.public.rstrip("\n"), fence]
        lines.append("")
    return "\n".join(lines)


def feedback_html(r: SubmissionResult) -> str:
    """One student's feedback as a standalone HTML page."""
    h = html.escape
    parts = [
        "<!DOCTYPE html>", '<html><head><meta charset="utf-8">',
        f"<title>Feedback: {h(Path(r.submission).name)}</title></head><body>",
        f"<h1>Feedback: {h(Path(r.submission).name)}</h1>",
        f"<p>Assignment: <b>{h(r.assignment or '')}</b><br>",
        f"Score: <b>{_fmt(r.total)} / {_fmt(r.max_total)}</b><br>Status: {h(r.status)}</p>",
    ]
    for e in r.exercises:
        parts.append(f"<h2>{h(e.function)}: {_fmt(e.points)} / {_fmt(e.max_points)} points</h2>")
        if e.title and e.title != e.function:
            parts.append(f"<p><i>{h(e.title)}</i></p>")
        if e.problem:
            parts.append(f"<p>Not graded: {h(e.problem)}.</p>")
        else:
            parts.append(f"<p>Hidden tests: {e.matched} of {e.n_cases} cases match the "
                         "reference.</p>")
            items = "".join(f"<li>{n} case(s) raised <code>{h(k)}</code></li>"
                            for k, n in sorted(e.case_errors.items()))
            parts.append(f"<ul>{items}</ul>" if items else "")
        if e.points < e.max_points and e.hint:
            parts.append(f"<p>Hint: {h(e.hint)}</p>")
        if e.public.strip():
            parts.append(f"<p>Public tests (your check cell):</p><pre>{h(e.public)}</pre>")
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p) + "\n"


def write_feedback(results: list[SubmissionResult], directory: Path, fmt: str = "md") -> None:
    """Write ``<directory>/<submission stem>.md`` (or ``.html``) for every result."""
    render = feedback_html if fmt == "html" else feedback_markdown
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for r, name in zip(results, feedback_names(results), strict=True):
        atomic_write(directory / f"{name}.{fmt}", render(r))


def progress_line(done: int, total: int, r: SubmissionResult) -> str:
    """``[ 3/40] alice.ipynb  7.5/10  ok  (3.1 s)``"""
    width = len(str(total))
    score = f"{_fmt(r.total)}/{_fmt(r.max_total)}" if r.exercises else "0"
    return f"[{done:>{width}}/{total}] {r.submission}  {score}  {r.status}  ({r.seconds:.1f} s)"


def summary(results: list[SubmissionResult], seconds: float, seed: int) -> str:
    """Mean, min and max total, and how many statuses are not ``ok``."""
    if not results:
        return "No submissions graded."
    totals = [r.total for r in results]
    best = max((r.max_total for r in results), default=0)
    not_ok = sum(r.status != "ok" for r in results)
    return (
        f"Graded {len(results)} submission(s) in {seconds:.1f} s (seed {seed}): "
        f"mean {statistics.fmean(totals):.2f}, min {_fmt(min(totals))}, "
        f"max {_fmt(max(totals))} (out of {_fmt(best)}); {not_ok} not ok."
    )
