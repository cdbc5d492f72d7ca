"""QAPLIB reader: instances (``.dat``) and solutions (``.sln``).

``.dat`` is a whitespace stream: ``n``, then the n×n matrix A, then B; QAPLIB's cost is
``sum_ij A[i, j] B[p(i), p(j)]`` (minimised), which is
:meth:`QuadraticAssignment.evaluate` with ``flow = A`` and ``distance = B``.  ``.sln`` is
``n value`` followed by the permutation, 1-based (a permutation containing 0 is read as
0-based, as ``tai40a.sln`` is written).

No maintained Python reader covers both files (QAPLIB readers on PyPI are unmaintained
or bundled with solvers); the format is a plain number stream, read here with a token
stream that reports the line of a bad or missing number.

Note: a few published ``.sln`` permutations (kra30a, kra30b, ste36c, tho30) score their
value only when inverted (the solution lists facility per location); this reader returns
the permutation as written, and :func:`invert_permutation` turns it round.
"""

from __future__ import annotations

import numpy as np

from cutslack.errors import ParseError, ProblemTooLargeError
from cutslack.problems.library._text import TokenStream, build_instance, read_source, source_name, source_stem
from cutslack.problems.qap import QuadraticAssignment

__all__ = ["read_qaplib", "read_qaplib_solution", "invert_permutation", "MAX_FACILITIES"]

#: Larger instances are refused before allocating their two dense matrices.
MAX_FACILITIES = 5_000


def read_qaplib(path_or_text) -> QuadraticAssignment:
    """Return the :class:`~cutslack.problems.QuadraticAssignment` of a QAPLIB ``.dat`` file.

    Parameters
    ----------
    path_or_text : str or os.PathLike
        A path, or the file's text (any string containing a newline).

    Returns
    -------
    QuadraticAssignment
        ``flow = A``, ``distance = B``, ``name`` = file stem, ``meta["source"]`` = file name.

    Raises
    ------
    ParseError
        Truncated matrices, non-numeric tokens, or numbers left over after B.

    Examples
    --------
    >>> qap = read_qaplib("2\\n0 3\\n3 0\\n0 5\\n5 0\\n")
    >>> qap.evaluate([1, 0])
    30.0
    """
    text, file = read_source(path_or_text)
    stream = TokenStream.from_text(text, file)
    n = stream.integer("the size n", minimum=1)
    if n > MAX_FACILITIES:
        raise ProblemTooLargeError("QAPLIB instance (facilities)", n, MAX_FACILITIES)
    flow = stream.numbers(n * n, f"entries of the {n}x{n} matrix A").reshape(n, n)
    distance = stream.numbers(n * n, f"entries of the {n}x{n} matrix B").reshape(n, n)
    stream.expect_end("the matrices A and B")
    return build_instance(QuadraticAssignment, flow, distance, name=source_stem(file, "qaplib"),
                          meta={"source": source_name(file)}, file=file, line=1)


def read_qaplib_solution(path_or_text) -> tuple[float, np.ndarray]:
    """Return ``(value, permutation)`` of a QAPLIB ``.sln`` file, the permutation 0-based.

    The header is ``n value``; the permutation follows (1-based, or 0-based when it
    contains 0).  The value is the one printed in the file, not re-evaluated.

    Raises
    ------
    ParseError
        Truncated permutation, non-integer entries, leftovers, or entries that are not a
        permutation of 1..n (or 0..n-1).
    """
    text, file = read_source(path_or_text)
    stream = TokenStream.from_text(text, file)
    n = stream.integer("the size n", minimum=1)
    value = stream.number("the solution value")
    line = stream.line
    perm = stream.numbers(n, f"entries of the permutation (n={n})", integer=True).astype(np.int64)
    stream.expect_end(f"the {n} entries of the permutation")
    base = 0 if perm.min() == 0 else 1
    if not np.array_equal(np.sort(perm), np.arange(base, base + n)):
        raise ParseError(f"expected a permutation of {base}..{base + n - 1}", file=file, line=line)
    return value, perm - base


def invert_permutation(perm) -> np.ndarray:
    """Return the inverse permutation ``q`` with ``q[perm[i]] = i``."""
    perm = np.asarray(perm, dtype=np.int64)
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(perm.shape[0])
    return inverse
