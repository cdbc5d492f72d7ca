"""Fuzzed library readers: each returns a valid instance or raises ParseError with file and
line (ProblemTooLargeError for sizes refused before allocating) -- never another exception,
a hang, or the same instance from changed data (``cutslack.fuzzing``).

Default profile: ~40 mutation cases per reader over the benchmark library plus hypothesis
examples over the shipped files (a few hundred cases, seconds).  ``-m slow``: 10,000
mutation cases per reader (the figures in docs/reliability.md).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cutslack.errors import ParseError, ProblemTooLargeError
from cutslack.fuzzing import MUTATIONS, FileFuzzer, check_parse, fuzz_reader, fuzz_targets
from cutslack.problems.library import (read_dimacs, read_mknap1, read_orlib_scp, read_qaplib,
                                       read_qaplib_solution, read_tsplib, read_tsplib_tour, shipped_path)

READERS = sorted(fuzz_targets())

#: shipped files (always present) and the reader of each
SHIPPED = {
    "burma14.tsp": read_tsplib, "gr17.tsp": read_tsplib, "ulysses16.tsp": read_tsplib,
    "ulysses16.opt.tour": read_tsplib_tour, "nug12.dat": read_qaplib, "chr12a.dat": read_qaplib,
    "nug12.sln": read_qaplib_solution, "mknap1.txt": read_mknap1, "1dc.64.txt": read_dimacs,
    "hamming6-4.clq": functools.partial(read_dimacs, complement=True),
    "scp/scp41.txt": read_orlib_scp,
}


@functools.lru_cache(maxsize=None)
def _fuzzer(file: str) -> FileFuzzer:
    optional = ("-1",) if file.endswith(".tour") else ()
    return FileFuzzer(SHIPPED[file], shipped_path(file).read_text(), file, optional_tokens=optional,
                      order_free=file.startswith("scp/"))


@pytest.mark.parametrize("reader", READERS)
def test_mutations_of_benchmark_files(benchmarks, reader):
    report = fuzz_reader(reader, 40, benchmark_dir=benchmarks, seed=7, max_files=2)
    assert report.cases >= 40
    assert not report.failures, "\n".join(report.failures)
    assert report.outcomes["refused"] > 0 and report.outcomes["same"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("reader", READERS)
def test_ten_thousand_mutations_per_reader(benchmarks, reader):
    report = fuzz_reader(reader, 10_000, benchmark_dir=benchmarks, seed=2026)
    assert report.cases == 10_000
    assert not report.failures, "\n".join(report.failures[:20])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(file=st.sampled_from(sorted(SHIPPED)), mutation=st.sampled_from(sorted(MUTATIONS)),
       seed=st.integers(0, 2 ** 32 - 1))
def test_hypothesis_mutations_of_shipped_files(file, mutation, seed):
    fuzzer = _fuzzer(file)
    mutant = fuzzer.mutate(mutation, np.random.default_rng(seed))
    if mutant is not None:
        outcome, failure = fuzzer.check(mutant)
        assert failure is None, failure


@settings(max_examples=40, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("0123456789 -.eE+\n\r\tpcnNAME:_SECTIONDIMENSIONproblem+x")),
                    max_size=300))
def test_hypothesis_arbitrary_text(text):
    for reader in SHIPPED.values():
        state, value = check_parse(reader, text + "\n", timeout=5.0)
        assert state != "bad", value


@settings(max_examples=20, deadline=None)
@given(data=st.binary(max_size=400))
def test_hypothesis_binary_junk(data):
    text = data.decode("latin-1") + "\n"
    for reader in SHIPPED.values():
        state, value = check_parse(reader, text, timeout=5.0)
        assert state != "bad", value


def test_regressions_found_by_fuzzing(tmp_path):
    # a byte-order mark (as Windows editors write) keeps the data
    bom = tmp_path / "nug12.dat"
    bom.write_bytes(b"\xef\xbb\xbf" + shipped_path("nug12.dat").read_bytes())
    assert np.array_equal(read_qaplib(bom).flow, read_qaplib(shipped_path("nug12.dat")).flow)
    # an instance rule broken by the data is a ParseError at the problem's line, not an InvalidInstanceError
    with pytest.raises(ParseError, match=r"<text>:2: .*field 'weights'"):
        read_mknap1("1\n2 1 0\n5 6\n-2 3\n4\n")
    # a vertex count that would take the machine is refused at once
    with pytest.raises(ProblemTooLargeError):
        read_dimacs("p edge 99999999999999999999 0\n")
    # an integer beyond 2**53 is not exact in float64
    with pytest.raises(ParseError, match="expected an integer"):
        read_qaplib_solution("2 5\n1 " + "9" * 30 + "\n")
    # every refusal names a line, also when the whole file is empty or a section is missing
    for reader in (read_tsplib, read_tsplib_tour, read_qaplib, read_mknap1, read_dimacs):
        with pytest.raises(ParseError) as info:
            reader("\n")
        assert info.value.line is not None and info.value.file == "<text>"
    # coordinates beyond what a TSPLIB distance can square are refused
    with pytest.raises(ParseError, match="coordinate of node 2"):
        read_tsplib("NAME: x\nTYPE: TSP\nDIMENSION: 2\nEDGE_WEIGHT_TYPE: EUC_2D\n"
                    "NODE_COORD_SECTION\n1 0 0\n2 1e200 0\n")
