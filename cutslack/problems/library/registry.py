"""Known optima: the benchmark library's ``MANIFEST.tsv`` and the instances shipped in the
package.

* :func:`manifest` parses ``MANIFEST.tsv`` into ``{(family, instance): KnownOptimum}``.
* :func:`load_instance` reads a library instance by its MANIFEST id, with
  ``known_optimum`` set: ``("tsp", "berlin52")``, ``("qap", "nug12")``,
  ``("mdkp", "mknap1#5")``, ``("mdkp", "mknap2#PB1")``, ``("mdkp", "mknapcb1#5.100-00")``,
  ``("mis", "johnson8-2-4")`` (a ``.clq`` clique graph, read as the MIS of its
  complement) or ``("mis", "1dc.64")`` (a Sloane graph, read as is), ``("gap", "gap1#1")``
  (OR-Library generalized assignment, maximise).
* :func:`load_shipped` reads one of the few small instances in ``data/`` (see
  ``data/ATTRIBUTION.md``); their optima are in :data:`SHIPPED`, copied from MANIFEST.tsv,
  or, for the OR-Library set-covering instances ``scp41``–``scp49`` (not in the benchmark
  library), in :data:`PUBLISHED`, the published optima (also reachable as
  ``load_instance("setcover", "scp41")``).

The benchmark library is found at ``benchmark_dir``, else ``$CUTSLACK_BENCHMARKS``, else
``shared/benchmarks`` beside the repository that holds the package.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import functools
import os
from pathlib import Path
from typing import NamedTuple

from cutslack.errors import ParseError
from cutslack.problems.base import KnownOptimum, Problem
from cutslack.problems.library.dimacs import read_dimacs
from cutslack.problems.library.orlib import read_mknap1, read_mknap2
from cutslack.problems.library.orlib_gap_scp import read_orlib_gap, read_orlib_scp
from cutslack.problems.library.qaplib import read_qaplib
from cutslack.problems.library.tsplib import read_tsplib

__all__ = ["SHIPPED", "PUBLISHED", "ShippedInstance", "ManifestEntry", "DATA_DIR", "default_benchmark_dir", "manifest",
           "manifest_entries", "load_instance", "load_shipped", "shipped_names", "shipped_path"]

#: Folder of the instances shipped in the package.
DATA_DIR = Path(__file__).resolve().parent / "data"

_MANIFEST = "MANIFEST.tsv"
_MANIFEST_COLUMNS = ("family", "instance", "file", "n", "optimum_or_best_known", "status")
_READABLE_FAMILIES = ("tsp", "qap", "mdkp", "mis", "ro", "gap")


class ManifestEntry(NamedTuple):
    """One MANIFEST.tsv row: where the instance lives and its known optimum."""

    family: str
    instance: str
    file: str
    n: int
    optimum: KnownOptimum


class ShippedInstance(NamedTuple):
    """A shipped instance: its family, file in ``data/``, and known optimum (proven)."""

    family: str
    file: str
    optimum: float


_SHIPPED_SOURCE = "cutslack shipped instance (value from the benchmark library's MANIFEST.tsv)"

#: The shipped instances by MANIFEST id; ``.clq`` files are clique graphs read as the MIS
#: of their complement.  Values copied from MANIFEST.tsv (a test checks they agree).
SHIPPED: dict[str, ShippedInstance] = {
    "burma14": ShippedInstance("tsp", "burma14.tsp", 3323),
    "ulysses16": ShippedInstance("tsp", "ulysses16.tsp", 6859),
    "gr17": ShippedInstance("tsp", "gr17.tsp", 2085),
    "nug12": ShippedInstance("qap", "nug12.dat", 578),
    "chr12a": ShippedInstance("qap", "chr12a.dat", 9552),
    **{f"mknap1#{k}": ShippedInstance("mdkp", "mknap1.txt", value)
       for k, value in enumerate((3800, 8706.1, 4015, 6120, 12400, 10618, 16537), start=1)},
    "johnson8-2-4": ShippedInstance("mis", "johnson8-2-4.clq", 4),
    "hamming6-4": ShippedInstance("mis", "hamming6-4.clq", 4),
    "1dc.64": ShippedInstance("mis", "1dc.64.txt", 10),
}

_SCP_SOURCE = ("published optimum: J. E. Beasley, 'An algorithm for set covering problem', EJOR 31 (1987) 85-93, "
               "and OR-Library's scpinfo; re-proved by cutslack's HiGHS MILP")
#: shipped instances outside the benchmark library, with published proven optima (OR-Library
#: set covering, 200 rows x 1000 columns; see data/ATTRIBUTION.md)
PUBLISHED: dict[str, ShippedInstance] = {
    f"scp4{k}": ShippedInstance("setcover", f"scp/scp4{k}.txt", value)
    for k, value in zip(range(1, 10), (429, 512, 516, 494, 512, 560, 430, 492, 641))
}


def default_benchmark_dir() -> Path:
    """Return ``$CUTSLACK_BENCHMARKS`` or ``shared/benchmarks`` beside the package's repository."""
    env = os.environ.get("CUTSLACK_BENCHMARKS")
    if env:
        return Path(env)
    # .../<repo>/cutslack/problems/library/registry.py -> .../shared/benchmarks
    return Path(__file__).resolve().parents[4] / "shared" / "benchmarks"


def _manifest_path(benchmark_dir) -> Path:
    folder = Path(benchmark_dir) if benchmark_dir is not None else default_benchmark_dir()
    path = folder / _MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"benchmark library not found: {path} does not exist "
                                f"(pass benchmark_dir or set CUTSLACK_BENCHMARKS)")
    return path


@functools.lru_cache(maxsize=8)
def _read_manifest(path: str, mtime_ns: int) -> dict[tuple[str, str], ManifestEntry]:
    entries = {}
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = next(reader, None)
        if header is None or tuple(header[:len(_MANIFEST_COLUMNS)]) != _MANIFEST_COLUMNS:
            raise ParseError(f"expected the header columns {', '.join(_MANIFEST_COLUMNS)}", file=path, line=1)
        for number, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) < len(header):
                raise ParseError(f"expected {len(header)} tab-separated columns, got {len(row)}", file=path,
                                 line=number)
            record = dict(zip(header, row))
            try:
                value = float(record["optimum_or_best_known"])
                n = int(record["n"])
            except ValueError:
                raise ParseError("expected a numeric n and optimum_or_best_known", file=path, line=number) from None
            if record["status"] not in ("optimal", "best-known"):
                raise ParseError(f"expected status 'optimal' or 'best-known', got {record['status']!r}",
                                 file=path, line=number)
            optimum = KnownOptimum(value, proven=record["status"] == "optimal",
                                   source=record.get("source_repo", "") or _MANIFEST)
            entries[(record["family"], record["instance"])] = ManifestEntry(
                record["family"], record["instance"], record["file"], n, optimum)
    return entries


def manifest_entries(benchmark_dir=None) -> dict[tuple[str, str], ManifestEntry]:
    """Return every MANIFEST.tsv row as ``{(family, instance): ManifestEntry}`` (cached per file)."""
    path = _manifest_path(benchmark_dir)
    return _read_manifest(str(path), path.stat().st_mtime_ns)


def manifest(benchmark_dir=None) -> dict[tuple[str, str], KnownOptimum]:
    """Return the known optima of MANIFEST.tsv as ``{(family, instance): KnownOptimum}``.

    ``proven`` is True for status ``optimal`` and False for ``best-known``.

    Raises
    ------
    FileNotFoundError
        When the benchmark library (its MANIFEST.tsv) is not found.
    ParseError
        A malformed MANIFEST row (with its line).
    """
    return {key: entry.optimum for key, entry in manifest_entries(benchmark_dir).items()}


def _read(family: str, instance: str, path: Path) -> Problem:
    """Return the instance ``instance`` of ``family`` from ``path`` (without known optimum)."""
    if family == "tsp":
        return read_tsplib(path)
    if family == "qap":
        return read_qaplib(path)
    if family == "mis":
        return read_dimacs(path, complement=path.suffix == ".clq")
    if family == "setcover":
        return read_orlib_scp(path)
    if family == "gap":
        return _pick(read_orlib_gap(path), instance, path)
    if family == "ro":  # two-stage robust knapsack (Arslan & Detienne)
        from cutslack.problems.library.robust_kp import read_robust_knapsack

        return read_robust_knapsack(path, results=None)
    # mdkp ids: "<file stem>#<name in the file>"
    collection = instance.partition("#")[0]
    problems = read_mknap2(path) if collection.startswith("mknap2") else read_mknap1(path)
    return _pick(problems, instance, path)


def _pick(problems, instance: str, path: Path) -> Problem:
    """Return the problem of a multi-problem file named ``instance`` (or its part after ``#``)."""
    key = instance.partition("#")[2]
    for problem in problems:
        if problem.name in (instance, key):
            return problem
    raise ValueError(f"{path.name} has no problem {key!r}; it has {', '.join(p.name for p in problems)}")


def _with_optimum(problem: Problem, optimum: KnownOptimum) -> Problem:
    return dataclasses.replace(problem, known_optimum=optimum)


def attach_known_optimum(problem: Problem, path, *, complement: bool = True) -> Problem:
    """Return ``problem`` with the known optimum of the library file ``path`` attached, when the
    file is a shipped instance or listed in the benchmark library's MANIFEST.tsv.

    A multi-problem file (mknap1, mknapcb, mknap2) is matched by the problem's name.  A
    DIMACS ``.clq`` file's optimum is the MIS of its complement, so it is attached only when
    the graph was read with ``complement=True``.  Anything else is returned unchanged.
    """
    if getattr(problem, "known_optimum", None) is not None:
        return problem
    target = Path(path).resolve()
    if target.suffix.lower() == ".clq" and not complement:
        return problem
    candidates = [(name, KnownOptimum(float(entry.optimum), True, _SHIPPED_SOURCE))
                  for name, entry in SHIPPED.items() if (DATA_DIR / entry.file).resolve() == target]
    candidates += [(name, KnownOptimum(float(entry.optimum), True, _SCP_SOURCE))
                   for name, entry in PUBLISHED.items() if (DATA_DIR / entry.file).resolve() == target]
    try:
        bdir = default_benchmark_dir()
        candidates += [(e.instance, e.optimum) for e in manifest_entries(bdir).values()
                       if (bdir / e.file).resolve() == target]
    except (FileNotFoundError, OSError):
        pass  # no benchmark library beside the package: only shipped instances are known
    name = str(getattr(problem, "name", ""))
    for instance, optimum in candidates:
        if len({c[0] for c in candidates}) == 1 or name in (instance, instance.split("#")[-1]):
            return _with_optimum(problem, optimum)
    return problem


def load_instance(family: str, instance: str, benchmark_dir=None) -> Problem:
    """Return a benchmark-library instance by its MANIFEST.tsv id, with ``known_optimum`` set.

    Parameters
    ----------
    family : {"tsp", "qap", "mdkp", "mis", "ro", "gap", "setcover"}
        ("setcover" takes the shipped OR-Library ids "scp41" .. "scp49")
    instance : str
        The MANIFEST id: ``"berlin52"``, ``"nug12"``, ``"mknap1#5"``, ``"mknap2#PB1"``,
        ``"mknapcb1#5.100-00"``, ``"johnson8-2-4"``, ``"1dc.64"``.
    benchmark_dir : path, optional
        Folder holding MANIFEST.tsv (default :func:`default_benchmark_dir`).

    Raises
    ------
    FileNotFoundError
        The benchmark library or the instance's file is missing.
    ValueError
        An unknown family or instance id (the message suggests close ids).
    """
    if family == "setcover" and instance in PUBLISHED:
        return load_shipped(instance)
    entries = manifest_entries(benchmark_dir)
    if family not in _READABLE_FAMILIES:
        raise ValueError(f"no reader for family {family!r}; expected one of {', '.join(_READABLE_FAMILIES)}")
    entry = entries.get((family, instance))
    if entry is None:
        ids = [name for fam, name in entries if fam == family]
        close = difflib.get_close_matches(instance, ids, n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"MANIFEST.tsv has no {family} instance {instance!r}{hint}")
    path = _manifest_path(benchmark_dir).parent / entry.file
    if not path.is_file():
        raise FileNotFoundError(f"benchmark file missing: {path} (listed in MANIFEST.tsv for {family}/{instance})")
    return _with_optimum(_read(family, instance, path), entry.optimum)


def shipped_names() -> list[str]:
    """Return the ids of the instances shipped in the package."""
    return list(SHIPPED)


def shipped_path(file: str) -> Path:
    """Return the path of a file shipped in ``data/`` (``"ulysses16.opt.tour"``, ``"nug12.sln"``)."""
    path = DATA_DIR / file
    if not path.is_file():
        available = sorted(p.name for p in DATA_DIR.iterdir() if p.name != "ATTRIBUTION.md")
        raise FileNotFoundError(f"no shipped file {file!r}; available: {', '.join(available)}")
    return path


def load_shipped(name: str) -> Problem:
    """Return a shipped instance by its id (see :func:`shipped_names`), with ``known_optimum`` set.

    Examples
    --------
    >>> tsp = load_shipped("burma14")
    >>> tsp.n, tsp.known_optimum.value
    (14, 3323)
    """
    if name in PUBLISHED:
        published = PUBLISHED[name]
        problem = _read(published.family, name, shipped_path(published.file))
        return _with_optimum(problem, KnownOptimum(published.optimum, proven=True, source=_SCP_SOURCE))
    shipped = SHIPPED.get(name)
    if shipped is None:
        raise ValueError(f"no shipped instance {name!r}; expected one of {', '.join([*SHIPPED, *PUBLISHED])}")
    problem = _read(shipped.family, name, shipped_path(shipped.file))
    return _with_optimum(problem, KnownOptimum(shipped.optimum, proven=True, source=_SHIPPED_SOURCE))
