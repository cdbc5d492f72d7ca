"""Every QUBO cutslack builds, for a sampler or hardware elsewhere: :func:`qubo_of` and the ``.qubo`` file.

:func:`qubo_of` returns ``(QUBO, inverse)`` for one of three encodings of a BinaryProgram:

``"slack-free"``
    the augmented Lagrangian QUBO without slack bits (exactly ``n`` variables) that
    ``method="lagrangian"`` samples first: ``augmented_slackfree_qubo`` with the given
    ``multipliers`` (original units; default the LP duals) and ``rho``;
``"slack-bits"``
    the slack-bit penalty QUBO (``penalty_qubo``: ``penalty``, ``rule``);
``"unbalanced"``
    unbalanced penalization (``unbalanced_qubo``: ``lambdas``, ``lambda1``, ``lambda2``,
    ``penalty_eq``, ``penalty_conflict``).

The QUBO then goes to dimod with ``QUBO.to_bqm()``, to Qiskit with
``QUBO.to_quadratic_program()``, or to a plain text file with :func:`write_qubo_file` in the
qbsolv ``.qubo`` format::

    c <comments; the offset as "c offset <value>", names as "c var <i> <name>">
    p qubo 0 <maxDiagonals> <nDiagonals> <nElements>
    <i> <i> <value>          one line per nonzero diagonal entry, then
    <i> <j> <value>          one line per nonzero coupler, i < j

:func:`qubo_of` is the one function of :mod:`cutslack.models` that reaches up a floor: it
imports the formulations (:mod:`cutslack.solvers.qubo`) inside the call, so importing this
package never loads them.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from cutslack.binary import QUBO, BinaryProgram
from cutslack.errors import ParseError, UsageError

__all__ = ["qubo_of", "write_qubo_file", "read_qubo_file", "QUBO_ENCODINGS"]

#: encodings :func:`qubo_of` builds
QUBO_ENCODINGS = ("slack-free", "slack-bits", "unbalanced")


def _builders():
    from cutslack.solvers.qubo.augmented import augmented_slackfree_qubo
    from cutslack.solvers.qubo.formulations import penalty_qubo, unbalanced_qubo

    def slack_free(program, *, multipliers=None, rho=None, rho_equality=None):
        kw = {} if rho is None else {"rho": rho}
        return augmented_slackfree_qubo(program, initial_multipliers=multipliers, rho_equality=rho_equality, **kw)

    return {"slack-free": slack_free, "slack-bits": penalty_qubo, "unbalanced": unbalanced_qubo}


def qubo_of(program: BinaryProgram, encoding: str = "slack-free", **params):
    """Return ``(QUBO, FormulationInverse)``: the program's QUBO in one of :data:`QUBO_ENCODINGS`.

    Parameters
    ----------
    program : BinaryProgram
    encoding : {"slack-free", "slack-bits", "unbalanced"}
    **params
        The encoding's own parameters (see the module docstring); ``slack-free`` takes
        ``multipliers`` (one per constraint: ``<=`` rows, equalities, conflicts), ``rho``
        and ``rho_equality``.

    The QUBO is in minimisation form; its first ``program.n`` variables are the program's
    bits, in order, and ``inverse.original_bits(x)`` returns them.

    Raises
    ------
    UsageError
        An unknown encoding or parameter (the message lists the valid ones).

    Examples
    --------
    >>> from cutslack.binary import BinaryProgram
    >>> bp = BinaryProgram(c=[10, 7, 4], sense="max", A_le=[[5, 4, 3]], b_le=[7])
    >>> q, inverse = qubo_of(bp, "slack-bits", penalty=30.0)
    >>> q.n, inverse.n_slack
    (6, 3)
    """
    builders = _builders()
    if encoding not in builders:
        raise UsageError(f"unknown QUBO encoding {encoding!r}; valid: {', '.join(QUBO_ENCODINGS)}")
    build = builders[encoding]
    accepted = [p for p in inspect.signature(build).parameters if p not in ("program", "bp")]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise UsageError(f"encoding {encoding!r} takes {', '.join(accepted)}; unknown: {', '.join(unknown)}")
    return build(program, **params)


def write_qubo_file(qubo: QUBO, path, *, comment: str | None = None) -> Path:
    """Write ``qubo`` to ``path`` in the qbsolv ``.qubo`` format and return the path.

    The offset is kept in a ``c offset <value>`` comment and the variable names in
    ``c var <i> <name>`` comments (qbsolv ignores comments; :func:`read_qubo_file` reads them).
    Values are written with ``repr``, so reading back gives the same floats.
    """
    U = sp.coo_matrix(qubo.U)
    keep = U.data != 0
    r, c, v = U.row[keep], U.col[keep], U.data[keep]
    diag = r == c
    order_d = np.argsort(r[diag], kind="stable")
    off = np.lexsort((c[~diag], r[~diag]))
    lines = [f"c {line}" for line in (comment or "").splitlines()]
    lines.append(f"c offset {qubo.offset!r}")
    lines.extend(f"c var {i} {name}" for i, name in enumerate(qubo.names))
    lines.append(f"p qubo 0 {qubo.n} {int(diag.sum())} {int((~diag).sum())}")
    for rows, cols, vals in ((r[diag][order_d], c[diag][order_d], v[diag][order_d]),
                             (r[~diag][off], c[~diag][off], v[~diag][off])):
        lines.extend(f"{i} {j} {float(a)!r}" for i, j, a in zip(rows.tolist(), cols.tolist(), vals.tolist()))
    p = Path(path)
    p.write_text("\n".join(lines) + "\n")
    return p


def read_qubo_file(path) -> QUBO:
    """Return the QUBO in a qbsolv ``.qubo`` file (offset and names from :func:`write_qubo_file`'s comments).

    Raises
    ------
    ParseError
        A missing or repeated ``p qubo`` line, a malformed entry, an index out of range, or
        counts that disagree with the header (file and line named).
    """
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise ParseError(f"cannot read the file: {exc.strerror or exc}", file=str(p)) from None
    header, offset, names, entries = None, 0.0, {}, []
    for k, raw in enumerate(text.splitlines(), start=1):
        parts = raw.split()
        if not parts:
            continue
        try:
            if parts[0] == "c":
                if len(parts) == 3 and parts[1] == "offset":
                    offset = float(parts[2])
                elif len(parts) >= 4 and parts[1] == "var":
                    names[int(parts[2])] = " ".join(parts[3:])
            elif parts[0] == "p":
                if header is not None or len(parts) != 6 or parts[1] != "qubo":
                    raise ValueError("expected one header 'p qubo 0 maxDiagonals nDiagonals nElements'")
                header = (k, int(parts[3]), int(parts[4]), int(parts[5]))
            else:
                if header is None:
                    raise ValueError("an entry before the 'p qubo' header")
                if len(parts) != 3:
                    raise ValueError("expected 'i j value'")
                i, j, a = int(parts[0]), int(parts[1]), float(parts[2])
                if not (0 <= i < header[1] and 0 <= j < header[1]):
                    raise ValueError(f"index out of range [0, {header[1]})")
                entries.append((i, j, a))
        except ValueError as exc:
            raise ParseError(str(exc), file=str(p), line=k) from None
    if header is None:
        raise ParseError("no 'p qubo' header line", file=str(p))
    n = header[1]
    n_diag = sum(1 for i, j, _ in entries if i == j)
    if (n_diag, len(entries) - n_diag) != header[2:]:
        raise ParseError(f"the header announces {header[2]} diagonal and {header[3]} coupler lines, the file has "
                         f"{n_diag} and {len(entries) - n_diag}", file=str(p), line=header[0])
    rows = [i for i, _, _ in entries]
    cols = [j for _, j, _ in entries]
    Q = sp.csr_matrix(([a for *_, a in entries], (rows, cols)), shape=(n, n))
    label = [names.get(i, f"x{i}") for i in range(n)]
    return QUBO(Q if n > 2000 else Q.toarray(), offset, names=label)
