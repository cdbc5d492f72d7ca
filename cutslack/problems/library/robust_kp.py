"""Reader of the two-stage robust knapsack instances of Arslan & Detienne (RobustDecomposition).

File format (``TwoStageRobustKnapsackInstances/File format.txt``)::

    I C Gamma                  items, capacity, uncertainty budget (Gamma may be fractional)
    pbar phat t c f            one line per item: nominal profit, largest degradation,
                               repair weight, weight, outsourcing cost

The published branch-and-price values (``ResultsForBranchAndPrice_public.csv``: file name,
time, best primal bound, ..., solved to optimality) are attached as
``KnownOptimum(value, proven=<solved flag>)`` by :func:`read_robust_knapsack` when the CSV is
found next to the instance folder, or when passed explicitly.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

import numpy as np

from cutslack.errors import ParseError
from cutslack.problems.base import KnownOptimum
from cutslack.problems.library._text import TokenStream, build_instance, read_source, source_name
from cutslack.problems.robust import TwoStageRobustKnapsack

__all__ = ["read_robust_knapsack", "read_branch_and_price_results", "RESULTS_FILE", "INSTANCE_FOLDER"]

RESULTS_FILE = "ResultsForBranchAndPrice_public.csv"
INSTANCE_FOLDER = "TwoStageRobustKnapsackInstances"
_SOURCE = "Arslan & Detienne branch-and-price (ResultsForBranchAndPrice.csv)"


def read_robust_knapsack(path_or_text, *, results=None) -> TwoStageRobustKnapsack:
    """Return the :class:`~cutslack.problems.robust.TwoStageRobustKnapsack` of one instance file.

    Parameters
    ----------
    path_or_text : str or os.PathLike
        A path, or the file's text (any string containing a newline).
    results : path, optional
        The branch-and-price CSV; by default ``ResultsForBranchAndPrice_public.csv`` in the
        folder above the instance's folder, when it exists.  The row of the file's name sets
        ``known_optimum``.

    Raises
    ------
    ParseError
        Truncated item lines, non-numeric tokens, leftovers, a bad header, or data breaking the
        family's rules (negative weights, Γ outside [0, n]) -- file and line named.

    Examples
    --------
    >>> p = read_robust_knapsack("2 6 1\\n 10 4 1 3 5\\n 8 4 1 3 5\\n")
    >>> p.n, p.budget
    (2, 1.0)
    """
    text, file = read_source(path_or_text)
    lines = text.splitlines()
    header = TokenStream([(1, lines[0] if lines else "")], file, what="the header line (I C Gamma)")
    n = header.integer("the number of items I", minimum=1)
    capacity = header.number("the capacity C")
    budget = header.number("the budget Gamma")
    header.expect_end("I C Gamma")
    items = TokenStream(enumerate(lines[1:], start=2), file, what="the item lines (pbar phat t c f)",
                        end_line=max(len(lines), 1))
    data = items.numbers(5 * n, f"numbers of {n} item lines").reshape(n, 5)
    items.expect_end(f"the {n} item lines")
    name = source_name(file) if file != "<text>" else "robust-knapsack"
    known = None
    if results is None and file != "<text>":
        candidate = Path(file).resolve().parent.parent / RESULTS_FILE
        results = candidate if candidate.is_file() else None
    if results is not None:
        known = read_branch_and_price_results(results).get(name)
    # data breaking the family's rules are reported at the first item line holding a negative or
    # non-finite number (the header line when the items are fine: capacity or budget)
    bad_rows = np.flatnonzero(~np.all(np.isfinite(data) & (data >= 0), axis=1))
    line = int(bad_rows[0]) + 2 if bad_rows.size else 1
    return build_instance(TwoStageRobustKnapsack, data[:, 0], data[:, 1], data[:, 2], data[:, 3], data[:, 4],
                          capacity, budget, name=name, known_optimum=known, meta={"source": source_name(file)},
                          file=file, line=line)


def read_branch_and_price_results(path) -> dict[str, KnownOptimum]:
    """Return ``{file name: KnownOptimum(best primal bound, proven=solved flag)}`` of the results CSV.

    Raises
    ------
    ParseError
        A missing column or a non-numeric value (with its line).
    """
    path = Path(path)
    return dict(_read_results(str(path.resolve()), path.stat().st_mtime_ns))


@functools.lru_cache(maxsize=4)
def _read_results(path: str, mtime_ns: int) -> tuple:
    out = []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        needed = ("File name", "Best primal bound", "Solved to optimality")
        missing = [h for h in needed if h not in header]
        if missing:
            raise ParseError(f"missing column(s) {', '.join(missing)}", file=path, line=1)
        col = {h: header.index(h) for h in needed}
        for number, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) < len(header):
                raise ParseError(f"expected {len(header)} columns, got {len(row)}", file=path, line=number)
            try:
                value = float(row[col["Best primal bound"]])
                solved = int(row[col["Solved to optimality"]])
            except ValueError:
                raise ParseError("expected a numeric best primal bound and a 0/1 solved flag", file=path,
                                 line=number) from None
            if not np.isfinite(value):
                raise ParseError("best primal bound is not finite", file=path, line=number)
            out.append((row[col["File name"]].strip(), KnownOptimum(value, proven=solved == 1, source=_SOURCE)))
    return tuple(out)
