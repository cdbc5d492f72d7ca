"""Mutation fuzzing of the library readers over real benchmark files.

Each case takes a real file, applies one mutation, parses the result and checks the
readers' contract:

* the reader returns an instance or raises :class:`~cutslack.errors.ParseError` carrying
  the file and a line (or :class:`~cutslack.errors.ProblemTooLargeError` for sizes it
  refuses before allocating) -- never another exception, and never a hang;
* a mutation that keeps the data (line endings, spacing, a byte-order mark) gives exactly
  the same instance;
* a mutation that changes the data (a number changed, deleted, swapped, made huge or
  non-numeric, a count off by one, the file cut before some of its data) gives a
  different instance or is refused -- never the same instance, which would mean the reader
  ignored data.

Which tokens are data is found by probing, not by a second parser: a token is data when
replacing it by junk makes the reader refuse the file (comments and free text are
accepted whatever they say).  :func:`fuzz_reader` runs a profile and returns the counts;
:func:`fuzz_targets` lists the readers and the benchmark files they are fuzzed on (a new
reader is added there).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from cutslack.errors import ParseError, ProblemTooLargeError
from cutslack.problems.library._text import _is_number

__all__ = ["FuzzTarget", "fuzz_targets", "MUTATIONS", "FuzzReport", "fingerprint", "Mutant", "FileFuzzer",
           "fuzz_reader", "check_parse", "main"]


class FuzzTarget(NamedTuple):
    """A reader under fuzzing: its name, how to call it, and the benchmark files (globs) it reads."""

    name: str
    reader: Callable
    patterns: tuple
    max_bytes: int = 50_000
    #: tokens the format lets a file leave out (a tour's ``-1`` terminator): deleting one may keep the instance
    optional_tokens: tuple = ()


@functools.lru_cache(maxsize=1)
def fuzz_targets() -> dict[str, FuzzTarget]:
    """Return reader name -> :class:`FuzzTarget`: every library reader and the benchmark files
    it is fuzzed on (a new reader is added here)."""
    from cutslack.problems.library import (read_dimacs, read_mknap1, read_mknap2, read_orlib_gap, read_qaplib,
                                           read_qaplib_solution, read_tsplib, read_tsplib_tour)
    from cutslack.problems.library.robust_kp import INSTANCE_FOLDER, read_robust_knapsack

    return {t.name: t for t in (
        FuzzTarget("tsplib", read_tsplib, ("tsp/*.tsp",), 12_000),
        FuzzTarget("tsplib-tour", read_tsplib_tour, ("tsp/*.opt.tour",), 12_000, optional_tokens=("-1",)),
        FuzzTarget("qaplib", read_qaplib, ("qap/*.dat",), 6_000),
        FuzzTarget("qaplib-solution", read_qaplib_solution, ("qap/*.sln",)),
        FuzzTarget("mknap1", read_mknap1, ("mdkp/mknap1.txt", "mdkp/mknapcb1_public.txt")),
        FuzzTarget("mknap2", read_mknap2, ("mdkp/mknap2_public.txt",)),
        FuzzTarget("dimacs", read_dimacs, ("mis/sloane_mis_inddgo/*.txt",), 15_000),
        FuzzTarget("dimacs-complement", functools.partial(read_dimacs, complement=True),
                   ("mis/dimacs_clique_weighted_trimble/*.clq",), 15_000),
        FuzzTarget("robust-knapsack", read_robust_knapsack, (f"ro/{INSTANCE_FOLDER}/RKP_*",), 1_000),
        FuzzTarget("orlib-gap", read_orlib_gap, ("gap/gap*.txt",)),
    )}


#: the mutations; ``keeps`` ones must give the same instance, ``changes`` ones a different one or a refusal
MUTATIONS = {
    "line_endings": "keeps", "whitespace": "keeps", "byte_order_mark": "keeps",
    "replace_number": "changes", "huge_number": "changes", "non_numeric": "changes", "delete_number": "changes",
    "swap_numbers": "changes", "wrong_count": "changes", "truncate": "depends", "truncate_section": "depends",
    "empty": "any", "binary_junk": "any", "junk_token": "any", "delete_line": "any", "duplicate_line": "any",
}

_HUGE = ("1e308", "-1e308", "1e400", "9" * 40, "-" + "9" * 25, "1e-320", "nan", "inf", "123456789012345678901")
_JUNK = ("x", "@@", "1..2", "--", "1e", "0x1F", "", "∞", "\x00", "NaN", "1,5", "+-1")
_SECTION_LINE = re.compile(r"^\s*([A-Z_]+_SECTION|problem\b|\+{3,}|p\s|EOF|DIMENSION|TYPE)", re.MULTILINE)


def fingerprint(value):
    """Return a hashable summary that two parses share exactly when they read the same data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__,) + tuple((f.name, fingerprint(getattr(value, f.name)))
                                               for f in dataclasses.fields(value))
    if isinstance(value, np.ndarray):
        data = np.ascontiguousarray(value)
        return ("array", data.shape, data.dtype.str, hashlib.sha1(data.tobytes()).hexdigest())
    if hasattr(value, "tocsr") and hasattr(value, "nnz"):  # a scipy sparse matrix (set-cover incidence)
        csr = value.tocsr(copy=True)
        csr.sum_duplicates()
        csr.sort_indices()
        return ("sparse", csr.shape, fingerprint(csr.indptr), fingerprint(csr.indices), fingerprint(csr.data))
    if isinstance(value, dict):
        return ("dict",) + tuple(sorted((str(k), fingerprint(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__,) + tuple(fingerprint(v) for v in value)
    if hasattr(value, "nodes") and hasattr(value, "edges"):  # a networkx graph
        edges = sorted(tuple(sorted(e)) for e in value.edges)
        return ("graph", tuple(sorted(value.nodes)), tuple(edges))
    if isinstance(value, float):
        return ("float", value.hex())
    return (type(value).__name__, repr(value))


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


def check_parse(reader: Callable, text: str, *, timeout: float = 10.0):
    """Return ``("ok", fingerprint)``, ``("refused", error)`` or ``("bad", description)`` of one parse.

    ``bad`` is a broken contract: another exception, a ParseError without file or line, or a
    parse running past ``timeout`` seconds (measured with SIGALRM where available).
    """
    use_alarm = hasattr(signal, "setitimer")
    if use_alarm:
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    start = time.perf_counter()
    try:
        out = reader(text)
    except ParseError as exc:
        if exc.file is None or exc.line is None:
            return "bad", f"ParseError without {'file' if exc.file is None else 'line'}: {exc}"
        return "refused", exc
    except ProblemTooLargeError as exc:
        return "refused", exc
    except _Timeout:
        return "bad", f"hang: no answer within {timeout} s"
    except Exception as exc:  # noqa: BLE001 -- exactly what the fuzzer looks for
        return "bad", f"{type(exc).__name__}: {exc}"
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    if time.perf_counter() - start > timeout:
        return "bad", f"hang: took {time.perf_counter() - start:.1f} s"
    return "ok", fingerprint(out)


class Mutant(NamedTuple):
    """A mutated text, the mutation's name, whether it changes the data (None: either way), and where."""

    text: str
    mutation: str
    changes_data: bool | None
    where: str


_TOKEN = re.compile(r"\S+")
_EDGE_LINE = re.compile(r"^\s*e\s", re.MULTILINE)
_SINGLE_SPACE = re.compile(r"(?<=\S) (?=\S)")
_GAPS = (" ", " \t", " \t ")


class FileFuzzer:
    """Mutations of one file's text for one reader, with the data tokens found by probing."""

    def __init__(self, reader: Callable, text: str, label: str = "<text>", *, optional_tokens: tuple = (),
                 order_free: bool = False):
        if "\n" not in text:
            text += "\n"  # the readers take a string with a newline as the text itself
        self.reader = reader
        self.optional_tokens = set(optional_tokens)
        #: the format lists sets (a set-cover row's columns), so swapping two numbers may keep the data
        self.order_free = bool(order_free)
        self.text = text
        self.label = label
        self.spans = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
        self.tokens = [text[a:b] for a, b in self.spans]
        self.numeric = [i for i, t in enumerate(self.tokens) if _is_number(t)]
        state, self.original = check_parse(reader, text, timeout=60.0)
        if state != "ok":
            raise ValueError(f"{label} does not parse as is: {self.original}")
        self._data: dict[int, bool] = {}

    def _replace(self, i: int, new: str) -> str:
        a, b = self.spans[i]
        return self.text[:a] + new + self.text[b:]

    def is_data(self, i: int) -> bool:
        """True when the reader refuses the file with token ``i`` replaced by junk."""
        if i not in self._data:
            state, _ = check_parse(self.reader, self._replace(i, "@junk@"))
            self._data[i] = state != "ok"
        return self._data[i]

    def _data_number(self, rng, *, tries: int = 30, first: int | None = None) -> int | None:
        pool = self.numeric if first is None else self.numeric[:first]
        for _ in range(tries):
            if not pool:
                return None
            i = pool[int(rng.integers(len(pool)))]
            if self.is_data(i):
                return i
        return None

    def _cut_changes_data(self, position: int) -> bool:
        """True when the cut removes a data token, i.e. falls before the last one."""
        if not hasattr(self, "_last_data"):
            self._last_data = next((self.spans[i][0] for i in reversed(self.numeric)
                                    if self.tokens[i] not in self.optional_tokens and self.is_data(i)), -1)
        return position <= self._last_data

    def mutate(self, mutation: str, rng) -> Mutant | None:
        """Return one mutant of ``mutation`` (None when the file offers no place for it)."""
        text, tokens = self.text, self.tokens
        if mutation == "line_endings":
            parts = text.splitlines()
            # old-Mac "\r" throughout, or Windows and Unix endings mixed line by line ("\r" then
            # "\n" would merge two line breaks into one)
            styles = ["\r"] if rng.random() < 0.25 else ["\r\n", "\n"]
            ends = rng.choice(styles, size=len(parts))
            return Mutant("".join(p + e for p, e in zip(parts, ends)), mutation, False, "all lines")
        if mutation == "whitespace":
            # each single space between two tokens becomes " ", " \t" or " \t "; each line may gain a
            # leading tab and trailing spaces (the random draws are made in bulk: files have thousands of lines)
            lines = text.split("\n")
            lead, trail = rng.random(len(lines)) < 0.5, rng.integers(3, size=len(lines))
            gaps = iter(rng.integers(3, size=text.count(" ") + 1))
            out = []
            for line, tab, spaces in zip(lines, lead, trail):
                if not line.strip() or line.lstrip().startswith(("NAME", "COMMENT")):
                    out.append(line)  # free-text values keep their spacing
                    continue
                inner = _SINGLE_SPACE.sub(lambda m: _GAPS[next(gaps)], line)
                out.append(("\t" if tab else "") + inner + " " * int(spaces))
            return Mutant("\n".join(out), mutation, False, "all lines")
        if mutation == "byte_order_mark":
            return Mutant("\ufeff" + text, mutation, False, "start")
        if mutation in ("replace_number", "huge_number", "non_numeric", "delete_number", "wrong_count"):
            i = self._data_number(rng, first=4 if mutation == "wrong_count" and rng.random() < 0.7 else None)
            if i is None:
                return None
            old = float(tokens[i])
            if mutation == "replace_number":
                new = old
                while new == old:
                    new = float(rng.choice([old + 1, old - 1, old * 2 + 1, -old - 1, old / 3, rng.normal() * 1e3]))
                new_text = str(int(new)) if new == int(new) and abs(new) < 1e15 else repr(new)
            elif mutation == "huge_number":
                new_text = str(rng.choice([h for h in _HUGE if not (_is_number(h) and float(h) == old)]))
            elif mutation == "non_numeric":
                new_text = str(rng.choice(_JUNK[:6]))
            elif mutation == "delete_number":
                new_text = ""
            else:
                new_text = str(int(old) + int(rng.choice([-1, 1]))) if old == int(old) else repr(old + 1)
            changes = None if mutation == "delete_number" and tokens[i] in self.optional_tokens else True
            return Mutant(self._replace(i, new_text), mutation, changes, f"token {i} {tokens[i]!r} -> {new_text!r}")
        if mutation == "swap_numbers":
            for _ in range(30):
                i, j = self._data_number(rng), self._data_number(rng)
                if i is None or j is None or i == j or float(tokens[i]) == float(tokens[j]):
                    continue
                if self.spans[i][0] > self.spans[j][0]:
                    i, j = j, i
                (a, b), (c, d) = self.spans[i], self.spans[j]
                swapped = text[:a] + tokens[j] + text[b:c] + tokens[i] + text[d:]
                # an edge list does not care which end of an edge comes first, nor the order of its lines
                return Mutant(swapped, mutation, None if self._order_free() else True, f"tokens {i} <-> {j}")
            return None
        if mutation in ("truncate", "truncate_section"):
            if mutation == "truncate_section":
                starts = [m.start() for m in _SECTION_LINE.finditer(text)]
                if not starts:
                    return None
                position = int(rng.choice(starts))
            else:
                position = int(rng.integers(len(text)))
            # a cut after the last data token may keep the instance or spoil a trailer (refused)
            return Mutant(text[:position], mutation, True if self._cut_changes_data(position) else None,
                          f"cut at {position}")
        if mutation == "empty":
            return Mutant(str(rng.choice(["", "\n", "   \n\n", "\r\n"])), mutation, True, "empty")
        if mutation == "binary_junk":
            junk = bytes(rng.integers(0, 256, size=int(rng.integers(1, 400)), dtype=np.uint8)).decode("latin-1")
            where = int(rng.integers(len(text)))
            return Mutant(text[:where] + junk + text[where:] if rng.random() < 0.7 else junk + "\n", mutation, None,
                          f"junk at {where}")
        if mutation == "junk_token":
            i = int(rng.integers(len(tokens)))
            return Mutant(self._replace(i, str(rng.choice(_JUNK))), mutation, None, f"token {i}")
        if mutation in ("delete_line", "duplicate_line"):
            lines = text.split("\n")
            k = int(rng.integers(len(lines)))
            lines[k:k + 1] = [] if mutation == "delete_line" else [lines[k], lines[k]]
            return Mutant("\n".join(lines), mutation, None, f"line {k + 1}")
        raise ValueError(f"unknown mutation {mutation!r}; expected one of {', '.join(MUTATIONS)}")

    def _order_free(self) -> bool:
        """True for an edge list (DIMACS ``e`` lines, wherever the first one is: vertex-weight
        ``n`` lines may come first), where swapping two endpoints may give the same graph, or a
        format declared ``order_free`` (set-cover rows list their columns as sets)."""
        return self.order_free or _EDGE_LINE.search(self.text) is not None

    def check(self, mutant: Mutant) -> tuple[str, str | None]:
        """Return ``(outcome, failure)``: outcome ``same``/``changed``/``refused``; failure a message or None."""
        if "\n" not in mutant.text:
            # a string without a newline is taken for a path: give the reader the text itself
            text = mutant.text + "\n"
        else:
            text = mutant.text
        state, value = check_parse(self.reader, text)
        if state == "bad":
            return "bad", f"{self.label} [{mutant.mutation} {mutant.where}]: {value}"
        if state == "refused":
            if mutant.changes_data is False:
                return "refused", f"{self.label} [{mutant.mutation}]: refused a file that keeps the data: {value}"
            return "refused", None
        outcome = "same" if value == self.original else "changed"
        if mutant.changes_data is False and outcome != "same":
            return outcome, f"{self.label} [{mutant.mutation}]: a mutation that keeps the data changed the instance"
        if mutant.changes_data is True and outcome == "same":
            return outcome, (f"{self.label} [{mutant.mutation} {mutant.where}]: the data changed but the reader "
                             f"returned the same instance")
        return outcome, None


@dataclasses.dataclass
class FuzzReport:
    """Counts of one fuzzing profile of one reader."""

    reader: str
    cases: int = 0
    outcomes: Counter = dataclasses.field(default_factory=Counter)
    mutations: Counter = dataclasses.field(default_factory=Counter)
    failures: list = dataclasses.field(default_factory=list)
    files: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"reader": self.reader, "cases": self.cases, "files": self.files, "outcomes": dict(self.outcomes),
                "failures": len(self.failures), "seconds": round(self.seconds, 1)}


def _files(target: FuzzTarget, benchmark_dir) -> list[Path]:
    files = sorted({p for pattern in target.patterns for p in Path(benchmark_dir).glob(pattern)})
    return [p for p in files if p.stat().st_size <= target.max_bytes] or files[:1]


def fuzz_reader(name: str, cases: int, *, benchmark_dir=None, seed: int = 0, max_files: int | None = None,
                stop_after_failures: int = 20) -> FuzzReport:
    """Run ``cases`` mutation cases of reader ``name`` over its benchmark files; return the counts.

    The cases cycle through the files and the mutations (every mutation of
    :data:`MUTATIONS` gets an equal share); the random choices come from ``seed``.
    """
    from cutslack.problems.library import default_benchmark_dir

    target = fuzz_targets()[name]
    folder = Path(benchmark_dir) if benchmark_dir is not None else default_benchmark_dir()
    files = _files(target, folder)
    if not files:
        raise FileNotFoundError(f"no benchmark files for reader {name!r} under {folder} ({', '.join(target.patterns)})")
    rng = np.random.default_rng(seed)
    if max_files is not None and len(files) > max_files:
        files = [files[i] for i in sorted(rng.choice(len(files), size=max_files, replace=False))]
    report = FuzzReport(name, files=len(files))
    start = time.perf_counter()
    fuzzers = [FileFuzzer(target.reader, p.read_text(encoding="utf-8", errors="replace"), p.name,
                          optional_tokens=target.optional_tokens) for p in files]
    names = list(MUTATIONS)
    k = 0
    while report.cases < cases and len(report.failures) < stop_after_failures:
        fuzzer = fuzzers[k % len(fuzzers)]
        mutation = names[(k // len(fuzzers)) % len(names)]
        k += 1
        mutant = fuzzer.mutate(mutation, rng)
        if mutant is None:
            if k > 50 * cases:
                break
            continue
        outcome, failure = fuzzer.check(mutant)
        report.cases += 1
        report.outcomes[outcome] += 1
        report.mutations[mutation] += 1
        if failure:
            report.failures.append(failure)
    report.seconds = time.perf_counter() - start
    return report


def main(argv=None) -> int:  # pragma: no cover - a command around fuzz_reader, which is tested
    """Fuzz readers and write one JSON line per reader (``python -m cutslack.fuzzing``).

    ``python -m cutslack.fuzzing [--cases N] [--seed S] [--readers NAME ...] [--out FILE]``;
    each line is :meth:`FuzzReport.as_dict` plus the failure messages, appended as each reader
    finishes (so a long run keeps what it has done); ``python -m cutslack.reliability
    --fuzz-results FILE`` can report them.  Exit 1 when any case broke the contract.
    """
    import argparse
    import datetime
    import json
    import sys

    parser = argparse.ArgumentParser(prog="python -m cutslack.fuzzing", description=main.__doc__)
    parser.add_argument("--cases", type=int, default=10_000, help="mutation cases per reader")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--readers", nargs="*", choices=sorted(fuzz_targets()), help="default: every reader")
    parser.add_argument("--out", help="append JSON lines here (default: standard output)")
    args = parser.parse_args(argv)
    failures = 0
    for name in args.readers or list(fuzz_targets()):
        report = fuzz_reader(name, args.cases, seed=args.seed)
        failures += len(report.failures)
        row = dict(report.as_dict(), failure_messages=report.failures, seed=args.seed,
                   date=f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
        line = json.dumps(row)
        if args.out:
            with open(args.out, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        else:
            print(line, flush=True)
        print(f"{name}: {report.cases} cases, {len(report.failures)} violations, {report.seconds:.0f} s",
              file=sys.stderr, flush=True)
    return 1 if failures else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
