"""MPS, free MPS and CPLEX LP files (plain or gzip) read through HiGHS into a BinaryProgram.

HiGHS (``highspy``, a core dependency) parses the file; this module only takes its column-wise
matrix, bounds, integrality, row bounds, objective sense, offset and Hessian and hands them to
:func:`cutslack.models.canonical.program_from_rows`.  No parser is written here.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import tempfile
import re
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from cutslack.errors import BackendUnavailableError, InvalidInstanceError, ParseError, UsageError
from cutslack.models.canonical import ModelProgram, program_from_rows, refusal_list

__all__ = ["read_model", "write_model", "MODEL_SUFFIXES", "is_model_file", "quiet_highs"]

#: file endings read_model takes (HiGHS chooses MPS or LP from the ending; ``.gz`` it reads itself)
MODEL_SUFFIXES = (".mps", ".lp", ".mps.gz", ".lp.gz", ".qps", ".qps.gz")

_WHERE = re.compile(r"-->\s*(?P<file>.+?):(?P<line>\d+):(?P<col>\d+)")


def is_model_file(path) -> bool:
    """Return whether ``path`` ends like an MPS or LP file (optionally gzipped)."""
    name = str(path).lower()
    return any(name.endswith(s) for s in MODEL_SUFFIXES)


def silent_highs():
    """Return a new ``highspy.Highs`` with its start-up banner swallowed and console output off.

    The banner goes to the C-level stdout when the first object of a process is created, so it
    would break a ``--json`` command line; every solver that builds its own HiGHS object takes it
    from here.  Only that first creation is captured (capturing costs milliseconds, and the
    robust second stage creates thousands).
    """
    global _BANNER_SHOWN
    import highspy

    if _BANNER_SHOWN:
        highs = highspy.Highs()
    else:
        from pyomo.common.tee import capture_output

        with capture_output(capture_fd=True):
            highs = highspy.Highs()
        _BANNER_SHOWN = True
    highs.setOptionValue("output_flag", False)
    return highs


#: whether this process has created a HiGHS object (its banner printed or swallowed) already
_BANNER_SHOWN = False


@contextlib.contextmanager
def quiet_highs():
    """Yield ``(highs, call)``: a silent ``highspy.Highs`` and ``call(method, *args) -> (status, log)``.

    HiGHS writes its banner to the C-level stdout when it is created; that line is swallowed
    (Pyomo's ``capture_output``, the way Pyomo's own HiGHS interface does it) so a ``--json``
    command line stays clean.  Everything after goes to a temporary ``log_file`` (not the
    console), and ``call`` returns the text one call appended to it, decoded leniently: a file
    with bytes that are not UTF-8 still gets its message.  The log file is removed on exit.
    """
    try:
        import highspy
    except ImportError as exc:  # pragma: no cover - highspy is a core dependency
        raise BackendUnavailableError("highspy (HiGHS)", "pip install highspy") from exc
    from pyomo.common.tee import capture_output

    handle, log_path = tempfile.mkstemp(prefix="cutslack-highs-", suffix=".log")
    os.close(handle)
    try:
        with capture_output(capture_fd=True):
            highs = highspy.Highs()
        highs.setOptionValue("log_to_console", False)
        highs.setOptionValue("log_file", log_path)

        def call(method, *args):
            start = os.path.getsize(log_path)
            status = method(*args)
            with open(log_path, "rb") as log:
                log.seek(start)
                return status, log.read().decode("utf-8", errors="replace")

        yield highs, call
    finally:
        with contextlib.suppress(OSError):
            os.unlink(log_path)


def _parse_error(path: Path, log: str) -> ParseError:
    """Return the ParseError for a file HiGHS refused: its ``ERROR`` text, the file and line number."""
    start = log.find("ERROR")
    text = log[start:].strip() if start >= 0 else "HiGHS could not read the model"
    line = None
    where = _WHERE.search(text)
    if where:
        line = int(where.group("line"))
    text = re.sub(r"ERROR:\s*", "", text)
    if re.search(r"quadratic (constraints|rows)", text, re.IGNORECASE):
        text = "quadratic constraints are not supported (cutslack takes linear constraints only); HiGHS: " + text
    else:
        text = "HiGHS could not read it: " + text
    return ParseError(text, file=str(path), line=line)


def _column_matrix(lp) -> sp.csr_matrix:
    """Return HiGHS's constraint matrix as CSR (it stores it column-wise)."""
    a = lp.a_matrix_
    start = np.asarray(a.start_, dtype=np.int64)
    index = np.asarray(a.index_, dtype=np.int64)
    value = np.asarray(a.value_, dtype=float)
    shape = (int(lp.num_row_), int(lp.num_col_))
    if str(a.format_).endswith("kRowwise"):
        return sp.csr_matrix((value, index, start), shape=shape)
    return sp.csc_matrix((value, index, start), shape=shape).tocsr()


def _hessian(model, n: int):
    """Return ``Q`` with ``x'Qx`` equal to HiGHS's ``x'Hx / 2`` (None without a quadratic objective)."""
    H = model.hessian_
    if int(H.dim_) == 0 or len(H.value_) == 0:
        return None
    M = sp.csc_matrix((np.asarray(H.value_, dtype=float), np.asarray(H.index_, dtype=np.int64),
                       np.asarray(H.start_, dtype=np.int64)), shape=(n, n))
    if str(H.format_).endswith("kTriangular"):
        # only the lower triangle is stored: x'Hx / 2 = sum_i H_ii x_i^2 / 2 + sum_{i>j} H_ij x_i x_j
        return sp.tril(M, -1).tocsr() + sp.diags(0.5 * M.diagonal())
    return 0.5 * M.tocsr()


def read_model(path, *, binary_expansion: bool = False) -> ModelProgram:
    """Return the :class:`~cutslack.models.canonical.ModelProgram` of an MPS or LP file read by HiGHS.

    Parameters
    ----------
    path : str or Path
        An MPS (fixed or free), LP or QPS file, plain or gzipped (``.mps.gz``, ``.lp.gz``).
    binary_expansion : bool
        Write each bounded general-integer variable in ``[l, u]`` as ``l + sum_k c_k b_k``
        (``info["binary_expansion"]`` lists the added bits); without it they are refused.

    Returns
    -------
    ModelProgram
        A BinaryProgram whose ``names`` are the file's binary columns (fixed columns are
        substituted out); ``info["constraints"]`` records per file row its name, kind
        (``"le"``, ``"ge"``, ``"eq"``, ``"range"``, ``"free"``) and the canonical rows it became
        as ``(block, index, sign)``; :func:`~cutslack.models.canonical.model_solution` maps
        a solution back to every column of the file by name.

    Raises
    ------
    UsageError
        The file does not exist or is not a readable file.
    ParseError
        HiGHS refused the file (its message, the file and the line when HiGHS gives one),
        including quadratic constraints.
    InvalidInstanceError
        Continuous or (without ``binary_expansion``) general-integer variables, naming them.

    Examples
    --------
    >>> import tempfile, os
    >>> text = "Maximize\\n obj: 3 x + 2 y\\nSubject To\\n c: x + y <= 1\\nBinary\\n x y\\nEnd\\n"
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = os.path.join(d, "tiny.lp")
    ...     _ = open(f, "w").write(text)
    ...     program = read_model(f)
    >>> program.n, program.m_le, program.sense
    (2, 1, 'max')
    """
    p = Path(path)
    if not p.exists():
        raise UsageError(f"no such model file: {path}; check the path")
    if not p.is_file() or not os.access(p, os.R_OK):
        raise UsageError(f"{path} is not a readable file")
    import highspy

    with quiet_highs() as (highs, call):
        status, log = call(highs.readModel, str(p))
        if status == highspy.HighsStatus.kError:
            raise _parse_error(p, log)
        model = highs.getModel()
    lp = model.lp_
    n, m = int(lp.num_col_), int(lp.num_row_)
    try:
        names = list(lp.col_names_) if len(lp.col_names_) == n else [f"c{j}" for j in range(n)]
        row_names = list(lp.row_names_) if len(lp.row_names_) == m else [f"r{i}" for i in range(m)]
        model_name = lp.model_name_ or _stem(p)
    except UnicodeDecodeError:
        raise ParseError("column, row or model names are not valid UTF-8", file=str(p)) from None
    sense = "max" if lp.sense_ == highspy.ObjSense.kMaximize else "min"
    return program_from_rows(
        names=names, lb=np.asarray(lp.col_lower_, dtype=float), ub=np.asarray(lp.col_upper_, dtype=float),
        integer=_integer_columns(lp, names, p), c=np.asarray(lp.col_cost_, dtype=float), A=_column_matrix(lp),
        row_lower=np.asarray(lp.row_lower_, dtype=float), row_upper=np.asarray(lp.row_upper_, dtype=float),
        Q=_hessian(model, n), const=float(lp.offset_), sense=sense, row_names=row_names,
        binary_expansion=binary_expansion, source=str(p), model_name=model_name)


def _integer_columns(lp, names, p: Path) -> np.ndarray:
    """Return which columns are integer; semi-continuous and semi-integer columns raise ParseError."""
    import highspy

    n = len(names)
    integrality = lp.integrality_
    if len(integrality) != n:  # HiGHS leaves integrality empty for a pure LP
        return np.zeros(n, dtype=bool)
    kind = np.fromiter((int(t) for t in integrality), dtype=np.int64, count=n)
    integer, continuous = int(highspy.HighsVarType.kInteger), int(highspy.HighsVarType.kContinuous)
    others = np.flatnonzero((kind != integer) & (kind != continuous))
    if others.size:
        raise ParseError(f"semi-continuous or semi-integer columns are not supported: "
                         f"{refusal_list(names[j] for j in others)}", file=str(p))
    return kind == integer


def write_model(program, path) -> Path:
    """Write a BinaryProgram to an MPS or LP file with HiGHS (``passModel`` + ``writeModel``); return the path.

    HiGHS picks the format from the ending (``.mps``, ``.lp``); with ``.gz`` added the file is
    gzip-compressed.
    Every variable is binary; ``<=`` and ``==`` rows are written as they are and a conflict
    pair ``x_i x_j == 0`` as the equivalent row ``x_i + x_j <= 1`` (files hold linear rows
    only).  The objective keeps its sense and constant; a quadratic objective is written as
    HiGHS's Hessian (``x'Qx = x'Hx / 2`` with ``H = Q + Q'``).
    """
    import highspy

    n = program.n
    rows = [sp.csr_matrix(program.A_le), sp.csr_matrix(program.A_eq)]
    lower = [np.full(program.m_le, -np.inf), program.b_eq]
    upper = [program.b_le, program.b_eq]
    if program.n_conflicts:
        k = program.n_conflicts
        pairs = program.conflicts
        rows.append(sp.csr_matrix((np.ones(2 * k), (np.repeat(np.arange(k), 2), pairs.reshape(-1))), shape=(k, n)))
        lower.append(np.full(k, -np.inf))
        upper.append(np.ones(k))
    A = sp.vstack(rows, format="csc") if n else sp.csc_matrix((sum(r.shape[0] for r in rows), 0))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, A.shape[0]
    lp.col_cost_ = program.c.astype(float)
    lp.col_lower_, lp.col_upper_ = np.zeros(n), np.ones(n)
    lp.row_lower_ = np.concatenate(lower).astype(float)
    lp.row_upper_ = np.concatenate(upper).astype(float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    lp.integrality_ = np.full(n, highspy.HighsVarType.kInteger)
    lp.sense_ = highspy.ObjSense.kMaximize if program.sense == "max" else highspy.ObjSense.kMinimize
    lp.offset_ = float(program.const)
    lp.col_names_ = list(program.names)
    lp.row_names_ = ([f"le{i}" for i in range(program.m_le)] + [f"eq{i}" for i in range(program.m_eq)]
                     + [f"conflict{i}" for i in range(program.n_conflicts)])
    target = Path(path)
    gz = target.name.lower().endswith(".gz")
    plain = target.with_name(f".{target.name[:-3]}.{os.getpid()}.tmp{Path(target.name[:-3]).suffix}") if gz else target
    with quiet_highs() as (highs, call):
        status, log = call(highs.passModel, lp)
        if status == highspy.HighsStatus.kError:
            raise InvalidInstanceError("program", "HiGHS refused the model: " + " ".join(log.split()))
        if program.Q is not None and sp.csr_matrix(program.Q).nnz:
            Q = sp.csr_matrix(program.Q)
            H = sp.tril(Q + Q.T, format="csc")  # x'Qx = x'Hx / 2, lower triangle stored
            call(highs.passHessian, n, H.nnz, highspy.HessianFormat.kTriangular, H.indptr.astype(np.int32),
                 H.indices.astype(np.int32), H.data.astype(float))
        try:
            status, log = call(highs.writeModel, str(plain))
            if status == highspy.HighsStatus.kError:
                raise UsageError(f"HiGHS could not write {path}: " + " ".join(log.split()))
            if gz:  # HiGHS writes plain text whatever the ending; compress it here
                with open(plain, "rb") as src, gzip.open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        finally:
            if gz and plain.exists():
                plain.unlink()
    return target


def _stem(p: Path) -> str:
    """Return the file name without ``.gz`` and the model ending."""
    name = p.name
    for suffix in sorted(MODEL_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return p.stem
