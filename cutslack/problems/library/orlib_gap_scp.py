"""OR-Library readers for generalized assignment and set covering (J. E. Beasley's OR-Library).

* :func:`read_orlib_gap` — ``gap1``–``gap12``: ``K``, then per problem ``m n``, the ``m×n``
  profits, the ``m×n`` resource uses, the ``m`` capacities (maximise profit).
* :func:`read_orlib_scp` — ``scp*``: ``m n``, the ``n`` column costs, then for each row the
  number of columns covering it followed by those columns (1-based).

Both are plain number streams, read with the shared token stream that reports the line of a
bad or missing number.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from cutslack.problems.generalized_assignment import GeneralizedAssignment
from cutslack.problems.library._text import TokenStream, build_instance, read_source, source_name, source_stem
from cutslack.problems.set_cover import SetCover

__all__ = ["read_orlib_gap", "read_orlib_scp"]


def read_orlib_gap(path_or_text) -> list[GeneralizedAssignment]:
    """Return the GAP instances of an OR-Library ``gapN`` file, in file order (``sense="max"``).

    Names are ``"<stem>#k"`` (k = 1..K: ``gap1#1`` for gap1.txt), the ids of the benchmark
    library's MANIFEST.tsv.

    Raises
    ------
    ParseError
        Truncated problems, non-numeric tokens, negative weights or capacities, or numbers
        left over after problem K (with the file and line).

    Examples
    --------
    >>> [p] = read_orlib_gap("1\\n2 2\\n5 1\\n2 4\\n3 3\\n3 3\\n3 3\\n")
    >>> p.size, p.evaluate([0, 1])
    ({'n': 2, 'm': 2}, 9.0)
    """
    text, file = read_source(path_or_text)
    stem = source_stem(file, "gap")
    stream = TokenStream.from_text(text, file)
    count = stream.integer("the number of problems K", minimum=0)
    problems = []
    for k in range(1, count + 1):
        first_line = stream.line
        m = stream.integer(f"m (agents) of problem {k}", minimum=1)
        n = stream.integer(f"n (jobs) of problem {k}", minimum=1)
        profits = stream.numbers(m * n, f"profits of problem {k} ({m} rows of {n})").reshape(m, n)
        weights = stream.numbers(m * n, f"resource uses of problem {k} ({m} rows of {n})").reshape(m, n)
        capacities = stream.numbers(m, f"capacities of problem {k} (m={m})")
        problems.append(build_instance(GeneralizedAssignment, profits, weights, capacities, sense="max",
                                       name=f"{stem}#{k}", meta={"source": source_name(file), "index": k},
                                       file=file, line=first_line))
    stream.expect_end(f"the {count} problems")
    return problems


def read_orlib_scp(path_or_text, *, unicost: bool = False) -> SetCover:
    """Return the set-covering instance of an OR-Library ``scp`` file (named after the file).

    ``unicost=True`` sets every cost to 1 (the unicost variant of the same matrix).

    Raises
    ------
    ParseError
        Truncated data, non-numeric tokens, a column index outside ``1..n``, a row covered by no
        column, or numbers left over (with the file and line).

    Examples
    --------
    >>> p = read_orlib_scp("2 3\\n3 2 2\\n2 1 2\\n2 1 3\\n")
    >>> p.size, p.evaluate([1, 0, 0]), p.is_feasible([1, 0, 0])
    ({'n': 3, 'm': 2}, 3.0, True)
    """
    text, file = read_source(path_or_text)
    stream = TokenStream.from_text(text, file)
    first_line = stream.line
    m = stream.integer("m (rows)", minimum=1)
    n = stream.integer("n (columns)", minimum=1)
    costs = stream.numbers(n, f"column costs (n={n})")
    rows, cols = [], []
    for r in range(m):
        count_line = stream.line
        k = stream.integer(f"the number of columns covering row {r + 1}", minimum=0)
        if k > n:
            raise stream.error(f"row {r + 1} lists {k} columns, more than n={n}", line=count_line)
        line = stream.line
        columns = stream.numbers(k, f"the columns covering row {r + 1}", integer=True).astype(np.int64)
        if k and (columns.min() < 1 or columns.max() > n):
            bad = int(np.flatnonzero((columns < 1) | (columns > n))[0])
            raise stream.error(f"column index {columns[bad]} of row {r + 1} outside 1..{n}",
                               line=stream.lines[stream.pos - k + bad] if stream.lines else line)
        rows.append(np.full(k, r, dtype=np.int64))
        cols.append(columns - 1)
    stream.expect_end(f"the {m} rows")
    r_idx, c_idx = np.concatenate(rows), np.concatenate(cols)
    cover = sp.csr_matrix((np.ones(r_idx.size), (r_idx, c_idx)), shape=(m, n))
    cover.data[:] = 1.0  # a column listed twice in a row still covers it once
    if unicost:
        costs = np.ones(n)
    stem = source_stem(file, "scp")
    return build_instance(SetCover, costs, cover, name=f"{stem}-unicost" if unicost else stem,
                          meta={"source": source_name(file), "unicost": bool(unicost)}, file=file, line=first_line)
