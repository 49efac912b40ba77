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
import re
import statistics
import tempfile
import time
from pathlib import Path

from nnlearn.grading.results import OWN_EXCEPTION
from nnlearn.grading.scoring import SubmissionResult, gradebook_columns


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_FORMULA = ("=", "+", "-", "@")
FIXED = ("submission", "assignment", "total", "max_total", "status")


def clean(text: str, multiline: bool = False) -> str:
    """``text`` without control characters (ESC, BEL, CR..., bidi overrides); with
    ``multiline`` tabs and newlines stay."""
    if multiline:
        return "\n".join(_CONTROL.sub("", line.replace("\t", "    ")) for line in
                         text.replace("\r\n", "\n").split("\n"))
    return _CONTROL.sub("", text)


def cell(text: str) -> str:
    """A gradebook field: clean, and a leading ``= + - @`` neutralised with ``'`` (OWASP's
    rule against CSV injection: spreadsheets would run it as a formula)."""
    text = clean(text)
    return "'" + text if text.startswith(_FORMULA) else text


def read_gradebook(path: Path) -> list[dict[str, str]]:
    """The rows of an existing gradebook (for ``--resume``); [] if there is none."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except FileNotFoundError:
        return []
    return [r for r in rows if r.get("submission")]


def write_gradebook(results: list[SubmissionResult], path: Path,
                    kept: list[dict[str, str]] = ()) -> Path:
    """Write ``submission, assignment, <grade_id>..., total, max_total, status`` atomically.

    ``kept`` are rows of a previous run (``--resume``) written as they were, after the
    new results. Returns the path written: if ``path`` has become a directory, the
    gradebook goes next to it (``<path>.<time>.csv``) instead of being lost.
    """
    columns = gradebook_columns(results)
    for row in kept:
        columns += [c for c in row if c not in FIXED and c not in columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["submission", "assignment", *columns, "total", "max_total", "status"])
    for r in results:
        points = {e.grade_id: e.points for e in r.exercises}
        max_total = r.max_total if r.exercises else None
        writer.writerow([cell(r.submission), cell(r.assignment or ""),
                         *(_fmt(points.get(c)) for c in columns),
                         _fmt(r.total), _fmt(max_total), cell(r.full_status)])
    for row in kept:
        writer.writerow([row.get(c) or "" for c in ("submission", "assignment", *columns,
                                                     "total", "max_total", "status")])
    path = Path(path)
    if path.is_dir():
        path = path.with_name(f"{path.name}.{time.strftime('%Y%m%d-%H%M%S')}.csv")
    atomic_write(path, buffer.getvalue())
    return path


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


def _outcome(name: str, code: str) -> str:
    """What happened on a hidden case, for the feedback: "raised `KeyError`", or for a
    warning in an exercise that forbids them, "issued `RuntimeWarning`, ..." (``code``
    formats a name as code)."""
    if name == OWN_EXCEPTION:
        return f"raised {name}"
    if name.endswith("Warning"):
        return f"issued {code.format(name)}, which a numerically stable version does not"
    return f"raised {code.format(name)}"


def feedback_markdown(r: SubmissionResult) -> str:
    """One student's feedback as Markdown."""
    lines = [f"# Feedback: {clean(Path(r.submission).name)}", ""]
    if r.assignment:
        lines.append(f"Assignment: **{clean(r.assignment)}**  ")
    lines += [f"Score: **{_fmt(r.total)} / {_fmt(r.max_total)}**  ", f"Status: {clean(r.status)}",
              ""]
    for e in r.exercises:
        lines += [f"## {e.function}: {_fmt(e.points)} / {_fmt(e.max_points)} points", ""]
        if e.title and e.title != e.function:
            lines += [f"*{e.title}*", ""]
        if e.problem:
            lines.append(f"Not graded: {e.problem}.")
        else:
            lines.append(f"Hidden tests: {e.matched} of {e.n_cases} cases match the reference.")
            for name, count in sorted(e.case_errors.items()):
                lines.append(f"- {count} case(s) " + _outcome(name, "`{}`"))
        if e.points < e.max_points and e.hint:
            lines += ["", f"Hint: {e.hint}"]
        if e.public.strip():
            public = clean(e.public, multiline=True)
            fence = "~~~~" if "```" in public else "```"
            lines += ["", "Public tests (your check cell):", "", fence + "text",
                      public.rstrip("\n"), fence]
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
        f"Score: <b>{_fmt(r.total)} / {_fmt(r.max_total)}</b><br>Status: {h(clean(r.status))}</p>",
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
            items = "".join(f"<li>{n} case(s) {_outcome(h(k), '<code>{}</code>')}</li>"
                            for k, n in sorted(e.case_errors.items()))
            parts.append(f"<ul>{items}</ul>" if items else "")
        if e.points < e.max_points and e.hint:
            parts.append(f"<p>Hint: {h(e.hint)}</p>")
        if e.public.strip():
            public = h(clean(e.public, multiline=True))
            parts.append(f"<p>Public tests (your check cell):</p><pre>{public}</pre>")
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
    return (f"[{done:>{width}}/{total}] {clean(r.submission)}  {score}  {clean(r.full_status)}  "
            f"({r.seconds:.1f} s)")


def summary(results: list[SubmissionResult], seconds: float, seed: int) -> str:
    """Mean, min and max total, and how many statuses are not ``ok``."""
    if not results:
        return "No submissions graded."
    totals = [r.total for r in results]
    best = max((r.max_total for r in results), default=0)
    not_ok = sum(r.full_status != "ok" for r in results)
    isolated = "" if not any("not isolated" in r.status for r in results) else (
        " NOT ISOLATED (--no-sandbox): submissions could read and change files.")
    return (
        f"Graded {len(results)} submission(s) in {seconds:.1f} s (seed {seed}): "
        f"mean {statistics.fmean(totals):.2f}, min {_fmt(min(totals))}, "
        f"max {_fmt(max(totals))} (out of {_fmt(best)}); {not_ok} not ok.{isolated}"
    )
