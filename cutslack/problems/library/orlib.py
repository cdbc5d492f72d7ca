"""OR-Library multi-dimensional knapsack readers (J. E. Beasley's OR-Library).

* :func:`read_mknap1` — ``mknap1.txt`` and the Chu & Beasley ``mknapcb*.txt`` files:
  ``K``, then per problem ``n m opt`` (``opt = 0`` when not given), n profits, m rows of n
  weights, m capacities.
* :func:`read_mknap2` — ``mknap2.txt`` (the SAC-94 collection): free text, then blocks
  ``problem NAME.DAT`` between ``+++`` lines, each ``m n``, n profits, m capacities, the
  m×n weights row by row, and the optimum.  ``//`` starts a comment (the file's worked
  example uses them).

All constraints are ``<=`` and profits are maximised.  No maintained Python reader for
these files exists; they are plain number streams, read with a token stream that reports
the line of a bad or missing number.
"""

from __future__ import annotations

import re

from cutslack.errors import ParseError
from cutslack.problems.base import KnownOptimum
from cutslack.problems.knapsack import Knapsack
from cutslack.problems.library._text import (TokenStream, build_instance, last_line, read_source, source_name,
                                             source_stem)

__all__ = ["read_mknap1", "read_mknap2"]

_PROBLEM = re.compile(r"^\s*problem\s+(\S+)", re.IGNORECASE)
_SEPARATOR = re.compile(r"^\s*\+{3,}\s*$")


def read_mknap1(path_or_text) -> list[Knapsack]:
    """Return the knapsacks of an OR-Library ``mknap1`` / ``mknapcb`` file, in file order.

    Names: ``"<stem>#k"`` (k = 1..K, so ``mknap1#5`` for mknap1.txt), except for the Chu &
    Beasley files (stem starting ``mknapcb``), whose problems take OR-Library's names
    ``"m.n-kk"`` (``5.100-00``, kk from 00).  A non-zero ``opt`` in the file becomes the
    ``known_optimum``.

    Raises
    ------
    ParseError
        Truncated problems, non-numeric tokens, or numbers left over after problem K.

    Examples
    --------
    >>> [k] = read_mknap1("1\\n3 1 11\\n5 6 7\\n2 3 4\\n6\\n")
    >>> k.size, k.known_optimum.value
    ({'n': 3, 'm': 1}, 11.0)
    """
    text, file = read_source(path_or_text)
    stem = source_stem(file, "mknap")
    chu_beasley = stem.lower().startswith("mknapcb")
    stream = TokenStream.from_text(text, file)
    count = stream.integer("the number of problems K", minimum=0)
    problems = []
    for k in range(1, count + 1):
        first_line = stream.line
        n = stream.integer(f"n (items) of problem {k}", minimum=1)
        m = stream.integer(f"m (constraints) of problem {k}", minimum=1)
        optimum = stream.number(f"the optimum of problem {k}")
        profits = stream.numbers(n, f"profits of problem {k} (n={n})")
        weights = stream.numbers(m * n, f"weights of problem {k} ({m} rows of {n})").reshape(m, n)
        capacities = stream.numbers(m, f"capacities of problem {k} (m={m})")
        known = KnownOptimum(optimum, proven=True, source=f"OR-Library {source_name(file)}") if optimum else None
        problems.append(build_instance(Knapsack, profits, weights, capacities, known_optimum=known,
                                       name=f"{m}.{n}-{k - 1:02d}" if chu_beasley else f"{stem}#{k}",
                                       meta={"source": source_name(file), "index": k}, file=file, line=first_line))
    stream.expect_end(f"the {count} problems")
    return problems


def read_mknap2(path_or_text) -> list[Knapsack]:
    """Return the knapsacks of OR-Library's ``mknap2`` (SAC-94) file, in file order.

    Each ``problem NAME.DAT`` block becomes a Knapsack named ``NAME`` (``"PB1"``,
    ``"WEING1"``) with the block's optimum as its ``known_optimum``.  Text before the first
    block (the file's description and worked example) is skipped.

    Raises
    ------
    ParseError
        No block, a block without data, truncated or over-long blocks, non-numeric tokens.
    """
    text, file = read_source(path_or_text)
    lines = text.splitlines()
    starts = [(number, match.group(1)) for number, line in enumerate(lines, start=1)
              if (match := _PROBLEM.match(line))]
    if not starts:
        raise ParseError("expected 'problem NAME.DAT' blocks (mknap2 format), found none", file=file,
                         line=last_line(text))
    problems = []
    ends = [number for number, _ in starts[1:]] + [len(lines) + 1]
    for (start, label), end in zip(starts, ends):
        name = re.sub(r"\.dat$", "", label, flags=re.IGNORECASE)
        # the block's numbers lie between the '+++' line after its header and the next '+++' line
        separators = [i for i in range(start + 1, end) if _SEPARATOR.match(lines[i - 1])]
        first = separators[0] + 1 if separators else start + 1
        last = next((i for i in separators if i >= first), end)
        stream = TokenStream(((i, lines[i - 1]) for i in range(first, last)), file,
                             what=f"problem {label}", comment="//", end_line=max(first, last - 1))
        m = stream.integer("m (constraints)", minimum=1)
        n = stream.integer("n (items)", minimum=1)
        profits = stream.numbers(n, f"profits (n={n})")
        capacities = stream.numbers(m, f"capacities (m={m})")
        weights = stream.numbers(m * n, f"weights ({m} rows of {n})").reshape(m, n)
        optimum = stream.number("the optimum")
        stream.expect_end("the optimum")
        problems.append(build_instance(Knapsack, profits, weights, capacities, name=name,
                                       known_optimum=KnownOptimum(optimum, proven=True,
                                                                   source=f"OR-Library {source_name(file)}"),
                                       meta={"source": source_name(file), "block_line": start}, file=file,
                                       line=start))
    return problems
