"""Tests of the library readers and the known-optima registry, against the shared benchmark
library (every published tour and solution re-evaluated) and the shipped instances."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from cutslack.errors import ParseError, ProblemTooLargeError
from cutslack.problems import Knapsack, MaximumIndependentSet, QuadraticAssignment, TravelingSalesman
from cutslack.problems.library import (SHIPPED, default_benchmark_dir, invert_permutation, load_instance,
                                       load_shipped, manifest, manifest_entries, read_dimacs, read_mknap1,
                                       read_mknap2, read_qaplib, read_qaplib_solution, read_tsplib,
                                       read_tsplib_tour, shipped_names, shipped_path, tsplib_distances)
from cutslack.problems.library.tsplib import MAX_CITIES

# parametrisation needs the file names at collection time; the tests themselves take the
# `benchmarks` fixture, which skips them when the library is absent
BENCHMARKS = default_benchmark_dir()

# QAPLIB .sln files whose permutation lists facility per location (README of the library)
INVERTED_SLN = {"kra30a", "kra30b", "ste36c", "tho30"}


def _files(pattern: str) -> list[str]:
    """Names of benchmark files matching ``pattern`` (collected at import; empty when absent)."""
    return sorted(p.name for p in BENCHMARKS.glob(pattern))


# ---------------------------------------------------------------- TSPLIB

@pytest.mark.parametrize("tour_file", _files("tsp/*.opt.tour"))
def test_every_optimal_tour_evaluates_to_its_manifest_optimum(benchmarks, tour_file):
    name = tour_file.removesuffix(".opt.tour")
    tsp = read_tsplib(benchmarks / "tsp" / f"{name}.tsp")
    tour = read_tsplib_tour(benchmarks / "tsp" / tour_file)
    assert tsp.name == name
    assert sorted(tour) == list(range(tsp.n))
    assert tsp.evaluate(tour) == manifest(benchmarks)[("tsp", name)].value


@pytest.mark.parametrize("tsp_file", _files("tsp/*.tsp"))
def test_every_tsplib_file_parses_to_an_integer_matrix(benchmarks, tsp_file):
    tsp = read_tsplib(benchmarks / "tsp" / tsp_file)
    entry = manifest(benchmarks).get(("tsp", tsp.name))
    assert entry is not None, f"{tsp.name} not in MANIFEST.tsv"
    D = tsp.distance
    assert D.shape == (tsp.n, tsp.n)
    assert np.all(D == np.round(D)) and np.all(np.diag(D) == 0)
    if tsp.meta["type"] == "TSP":
        assert tsp.symmetric
    # any tour is at least as long as the optimum
    assert tsp.evaluate(np.arange(tsp.n)) >= entry.value


def test_tsplib_distance_definitions_by_hand():
    # EUC_2D rounds half up; CEIL_2D rounds up; ATT rounds up when nint falls below r
    C = [[0.0, 0.0], [3.0, 4.5], [10.0, 0.0]]
    assert tsplib_distances(C, "EUC_2D")[0, 1] == 5.0        # sqrt(29.25) = 5.408
    assert tsplib_distances(C, "CEIL_2D")[0, 1] == 6.0
    # ATT: r = sqrt(100 / 10) = 3.162..., nint 3 < r -> 4
    assert tsplib_distances(C, "ATT")[0, 2] == 4.0
    assert tsplib_distances([[0, 0], [0, 1]], "EUC_2D")[0, 1] == 1.0
    # GEO: one degree of latitude on the TSPLIB sphere is int(6378.388 * PI / 180 + 1) = 112
    assert tsplib_distances([[10.0, 20.0], [11.0, 20.0]], "GEO")[0, 1] == 112.0
    # 30 minutes (DDD.MM = 10.30) is half a degree: int(6378.388 * PI / 360 + 1) = 56
    assert tsplib_distances([[10.0, 20.0], [10.30, 20.0]], "GEO")[0, 1] == 56.0


@pytest.mark.parametrize("fmt, stream", [
    ("FULL_MATRIX", "0 1 2  1 0 3  2 3 0"),
    ("UPPER_ROW", "1 2 3"),
    ("LOWER_ROW", "1 2 3"),
    ("UPPER_DIAG_ROW", "0 1 2 0 3 0"),
    ("LOWER_DIAG_ROW", "0 1 0 2 3 0"),
    ("UPPER_COL", "1 2 3"),
    ("LOWER_DIAG_COL", "0 1 2 0 3 0"),
])
def test_explicit_formats_fill_the_same_matrix(fmt, stream):
    text = f"NAME: t\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: {fmt}\n" \
           f"EDGE_WEIGHT_SECTION\n{stream}\nEOF\n"
    expected = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]], dtype=float)
    np.testing.assert_array_equal(read_tsplib(text).distance, expected)


def test_asymmetric_full_matrix_and_metadata():
    text = ("NAME : ftv3\nTYPE : ATSP\nCOMMENT : tiny\nDIMENSION : 3\nEDGE_WEIGHT_TYPE : EXPLICIT\n"
            "EDGE_WEIGHT_FORMAT : FULL_MATRIX\nEDGE_WEIGHT_SECTION\n0 1 9\n4 0 1\n1 7 0\n")
    tsp = read_tsplib(text)
    assert isinstance(tsp, TravelingSalesman) and not tsp.symmetric
    assert tsp.evaluate([0, 1, 2]) == 3.0 and tsp.evaluate([0, 2, 1]) == 20.0
    assert tsp.meta == {"type": "ATSP", "edge_weight_type": "EXPLICIT", "edge_weight_format": "FULL_MATRIX",
                        "source": "<text>", "comment": "tiny"}
    assert tsp.coordinates is None


_GOOD_EUC = "NAME: e\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 3 0\n3 0 4\nEOF\n"


@pytest.mark.parametrize("text, line, fragment", [
    (_GOOD_EUC.replace("EUC_2D", "EUC_3D"), 4, "unknown EDGE_WEIGHT_TYPE 'EUC_3D'"),
    (_GOOD_EUC.replace("2 3 0", "2 3 x"), 7, "got 'x'"),
    (_GOOD_EUC.replace("3 0 4\n", ""), 7, "truncated: expected 9"),
    (_GOOD_EUC.replace("3 0 4\n", "3 0 4\n4 1 1\n"), 9, "nothing more"),
    (_GOOD_EUC.replace("DIMENSION: 3", "DIMENSION: three"), 3, "integer DIMENSION"),
    (_GOOD_EUC.replace("3 0 4", "4 0 4"), 6, "node ids 1..3"),
    (_GOOD_EUC.replace("TYPE: TSP", "TYPE: CVRP"), 2, "TSP or ATSP"),
    ("NAME: x\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: WEIRD\n", 5,
     "unknown EDGE_WEIGHT_FORMAT"),
    ("NAME: x\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: UPPER_ROW\n"
     "EDGE_WEIGHT_SECTION\n1 2\n", 7, "truncated: expected 3 weights"),
])
def test_tsplib_parse_errors_name_file_and_line(text, line, fragment):
    with pytest.raises(ParseError) as info:
        read_tsplib(text)
    assert info.value.line == line and info.value.file == "<text>"
    assert fragment in str(info.value)


def test_tsplib_parse_error_names_the_path(tmp_path):
    path = tmp_path / "broken.tsp"
    path.write_text(_GOOD_EUC.replace("3 0 4\n", ""))
    with pytest.raises(ParseError, match=r"broken\.tsp:7: truncated"):
        read_tsplib(path)
    with pytest.raises(FileNotFoundError, match="missing.tsp"):
        read_tsplib(tmp_path / "missing.tsp")


def test_tsplib_refuses_a_huge_explicit_matrix_before_allocating():
    explicit = ("NAME: x\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: UPPER_ROW\n"
                "EDGE_WEIGHT_SECTION\n1 2 3\nEOF\n")
    assert read_tsplib(explicit).distance[0, 2] == 2
    with pytest.raises(ProblemTooLargeError):
        read_tsplib(explicit.replace("DIMENSION: 3", f"DIMENSION: {MAX_CITIES + 1}"))


def test_tsplib_large_coordinate_instance_keeps_no_matrix():
    n = MAX_CITIES + 1
    coords = "\n".join(f"{i + 1} {i % 97} {i // 97}" for i in range(n))
    p = read_tsplib(_GOOD_EUC.replace("DIMENSION: 3", f"DIMENSION: {n}").replace("1 0 0\n2 3 0\n3 0 4", coords))
    assert p.size == {"n": n} and p.distance is None and p.metric == "EUC_2D"
    assert p.evaluate(np.arange(n)) > 0


def test_tour_reader_checks_the_permutation():
    with pytest.raises(ParseError, match="ids 1..3"):
        read_tsplib_tour("TYPE: TOUR\nDIMENSION: 3\nTOUR_SECTION\n1 2 2\n-1\nEOF\n")
    np.testing.assert_array_equal(read_tsplib_tour("TYPE: TOUR\nTOUR_SECTION\n3\n1\n2\n-1\n"), [2, 0, 1])


# ---------------------------------------------------------------- QAPLIB

@pytest.mark.parametrize("sln_file", _files("qap/*.sln"))
def test_every_qaplib_solution_evaluates_to_the_manifest_value(benchmarks, sln_file):
    name = sln_file.removesuffix(".sln")
    qap = read_qaplib(benchmarks / "qap" / f"{name}.dat")
    value, perm = read_qaplib_solution(benchmarks / "qap" / sln_file)
    assert isinstance(qap, QuadraticAssignment) and qap.name == name and perm.shape == (qap.n,)
    known = manifest(benchmarks)[("qap", name)].value
    solution = invert_permutation(perm) if name in INVERTED_SLN else perm
    assert qap.evaluate(solution) == known
    # the header value is the optimum, except kra32's (88900 printed, 88700 scored)
    assert value == (88900 if name == "kra32" else known)


@pytest.mark.parametrize("dat_file", _files("qap/*.dat"))
def test_every_qaplib_instance_is_in_the_manifest(benchmarks, dat_file):
    qap = read_qaplib(benchmarks / "qap" / dat_file)
    entry = manifest(benchmarks)[("qap", qap.name)]
    assert qap.evaluate(np.arange(qap.n)) >= entry.value


def test_qaplib_zero_based_solution_is_detected():
    value, perm = read_qaplib_solution("3 7\n2 0 1\n")
    assert value == 7 and perm.tolist() == [2, 0, 1]
    assert read_qaplib_solution("3 7\n3 1 2\n")[1].tolist() == [2, 0, 1]


@pytest.mark.parametrize("text, line, fragment", [
    ("2\n0 1\n1 0\n0 2\n", 4, "truncated: expected 4 entries of the 2x2 matrix B"),
    ("2\n0 1\n1 0\n0 2\n2 0\n9\n", 6, "nothing more"),
    ("2\n0 1\n1 zero\n0 2\n2 0\n", 3, "got 'zero'"),
    ("two\n0 1\n", 1, "the size n"),
])
def test_qaplib_parse_errors(text, line, fragment):
    with pytest.raises(ParseError) as info:
        read_qaplib(text)
    assert info.value.line == line and fragment in str(info.value)


def test_qaplib_solution_that_is_not_a_permutation_is_refused():
    with pytest.raises(ParseError, match="permutation of 1..3"):
        read_qaplib_solution("3 7\n1 1 2\n")
    with pytest.raises(ParseError, match="truncated"):
        read_qaplib_solution("3 7\n1 2\n")


# ---------------------------------------------------------------- OR-Library

@pytest.mark.parametrize("file, reader, prefix", [
    ("mknap1.txt", read_mknap1, ""),
    ("mknapcb1_public.txt", read_mknap1, "mknapcb1#"),
    ("mknap2_public.txt", read_mknap2, "mknap2#"),
])
def test_mknap_files_match_the_manifest(benchmarks, file, reader, prefix):
    problems = reader(benchmarks / "mdkp" / file)
    known = {inst: entry for (fam, inst), entry in manifest(benchmarks).items() if fam == "mdkp"}
    listed = {inst for inst in known if inst.startswith(prefix or "mknap1#")}
    assert {prefix + p.name for p in problems} == listed
    for p in problems:
        assert isinstance(p, Knapsack)
        entry = known[prefix + p.name]
        if p.known_optimum is not None:  # the optimum printed in the file
            assert p.known_optimum.value == entry.value
        assert p.evaluate(np.zeros(p.n)) == 0 and p.is_feasible(np.zeros(p.n))


def test_mknap1_sizes_and_optima_in_the_file():
    problems = read_mknap1(shipped_path("mknap1.txt"))
    assert [p.name for p in problems] == [f"mknap1#{k}" for k in range(1, 8)]
    assert [(p.n, p.m) for p in problems] == [(6, 10), (10, 10), (15, 10), (20, 10), (28, 10), (39, 5), (50, 5)]
    assert problems[1].known_optimum.value == 8706.1 and problems[6].known_optimum.value == 16537


def test_mknap2_reads_blocks_and_skips_the_preamble():
    text = ("free text\n 2 28 // not a block\n+++\nproblem TINY.DAT\n\n+++\n 2 3\n 5 6 7\n 4 5\n"
            " 1 2 3 // row 1\n 3 2 1\n\n 12\n+++\n\nproblem SECOND.DAT\n+++\n1 1\n9\n1\n1\n9\n")
    tiny, second = read_mknap2(text)
    assert tiny.name == "TINY" and tiny.size == {"n": 3, "m": 2}
    np.testing.assert_array_equal(tiny.capacities, [4, 5])
    np.testing.assert_array_equal(tiny.weights, [[1, 2, 3], [3, 2, 1]])
    assert tiny.known_optimum.value == 12 and second.known_optimum.value == 9


@pytest.mark.parametrize("text, line, fragment", [
    ("1\n3 1 0\n5 6 7\n2 3 4\n", 4, "truncated: expected 1 capacities"),
    ("1\n3 1 0\n5 6 7\n2 x 4\n6\n", 4, "got 'x'"),
    ("2\n3 1 0\n5 6 7\n2 3 4\n6\n", 5, "truncated"),
    ("1\n3 1 0\n5 6 7\n2 3 4\n6\n7\n", 6, "nothing more"),
])
def test_mknap1_parse_errors(text, line, fragment):
    with pytest.raises(ParseError) as info:
        read_mknap1(text)
    assert info.value.line == line and fragment in str(info.value)


def test_mknap2_parse_errors():
    with pytest.raises(ParseError, match="problem NAME.DAT"):
        read_mknap2("just\ntext\n")
    with pytest.raises(ParseError, match=r"<text>:4: truncated: expected 2 capacities \(m=2\) in problem A.DAT"):
        read_mknap2("problem A.DAT\n+++\n2 2\n1 1\n")


# ---------------------------------------------------------------- DIMACS

@pytest.mark.parametrize("graph_file", _files("mis/*/*.clq") + _files("mis/*/*.txt"))
def test_every_dimacs_graph_parses(benchmarks, graph_file):
    [path] = list(benchmarks.glob(f"mis/*/{graph_file}"))
    clique = path.suffix == ".clq"
    graph = read_dimacs(path)
    mis = read_dimacs(path, complement=clique)
    n = mis.n
    assert isinstance(mis, MaximumIndependentSet) and mis.nodes == tuple(range(1, n + 1))
    assert graph.size["edges"] == graph.meta["declared_edges"]
    if clique:
        assert mis.size["edges"] == n * (n - 1) // 2 - graph.size["edges"]
        assert "vertex_weights" in graph.meta
    entry = manifest(benchmarks)[("mis", mis.name)]
    assert entry.value <= n


def test_johnson8_2_4_complement_has_the_expected_size_and_clique_number():
    mis = load_shipped("johnson8-2-4")
    assert mis.size == {"n": 28, "edges": math.comb(28, 2) - 210}
    original = nx.complement(mis.graph)
    assert original.number_of_edges() == 210
    assert max(len(c) for c in nx.find_cliques(original)) == mis.known_optimum.value == 4
    # a maximum clique of the original is an independent set of the instance
    clique = max(nx.find_cliques(original), key=len)
    x = mis.indicator(clique)
    assert mis.is_feasible(x) and mis.evaluate(x) == 4


def test_dimacs_keeps_isolated_vertices_and_optional_weights():
    text = "c tiny\np edge 4 2\nn 1 5\ne 1 2\ne 2 1\n"
    mis = read_dimacs(text)
    assert mis.nodes == (1, 2, 3, 4) and mis.size["edges"] == 1 and not mis.weighted
    np.testing.assert_array_equal(read_dimacs(text, weighted=True).weights, [5, 1, 1, 1])
    assert read_dimacs(text, complement=True).size["edges"] == 5


@pytest.mark.parametrize("text, line, fragment", [
    ("p edge 3 1\ne 1 1\n", 2, "self-loop"),
    ("p edge 3 2\ne 1 2\n", 1, "declares 2 edges but the file has 1"),
    ("p edge 3 1\ne 1 4\n", 2, "vertex id in 1..3"),
    ("p edge 3 1\ne 1 b\n", 2, "got 'b'"),
    ("e 1 2\np edge 3 1\n", 1, "before the first 'e'"),
    ("p edge 3 1\nx 1 2\n", 2, "expected a 'c', 'p', 'e' or 'n' line"),
    ("p edge 3 1\np edge 3 1\ne 1 2\n", 2, "second"),
])
def test_dimacs_parse_errors(text, line, fragment):
    with pytest.raises(ParseError) as info:
        read_dimacs(text)
    assert info.value.line == line and fragment in str(info.value)


# ---------------------------------------------------------------- registry

def test_manifest_covers_the_families_and_flags_best_known(benchmarks):
    known = manifest(benchmarks)
    families = {fam for fam, _ in known}
    assert {"tsp", "qap", "mdkp", "mis"} <= families
    assert known[("mdkp", "mknap1#2")].value == 8706.1 and known[("mdkp", "mknap1#2")].proven
    assert not known[("qap", "tho40")].proven


@pytest.mark.parametrize("family, instance, kind, n", [
    ("tsp", "berlin52", TravelingSalesman, 52),
    ("qap", "nug12", QuadraticAssignment, 12),
    ("mdkp", "mknap1#5", Knapsack, 28),
    ("mdkp", "mknap2#PB1", Knapsack, 27),
    ("mdkp", "mknapcb1#5.100-03", Knapsack, 100),
    ("mis", "johnson8-2-4", MaximumIndependentSet, 28),
    ("mis", "1dc.64", MaximumIndependentSet, 64),
])
def test_load_instance_sets_the_manifest_optimum(benchmarks, family, instance, kind, n):
    problem = load_instance(family, instance, benchmark_dir=benchmarks)
    assert isinstance(problem, kind) and problem.n == n
    assert problem.known_optimum == manifest(benchmarks)[(family, instance)]


def test_load_instance_reports_unknown_ids_and_missing_library(benchmarks, tmp_path):
    with pytest.raises(ValueError, match="did you mean 'berlin52'"):
        load_instance("tsp", "berlin53", benchmark_dir=benchmarks)
    with pytest.raises(ValueError, match="no reader for family 'pde'"):
        load_instance("pde", "anything", benchmark_dir=benchmarks)
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "MANIFEST.tsv")):
        load_instance("tsp", "berlin52", benchmark_dir=tmp_path)


def test_malformed_manifest_raises_parse_error_with_line(tmp_path):
    header = "family\tinstance\tfile\tn\toptimum_or_best_known\tstatus\n"
    (tmp_path / "MANIFEST.tsv").write_text(header + "tsp\tx\ttsp/x.tsp\t3\tlots\toptimal\n")
    with pytest.raises(ParseError, match=r"MANIFEST\.tsv:2: expected a numeric"):
        manifest(tmp_path)


@pytest.mark.parametrize("name", shipped_names())
def test_shipped_instances_load_with_their_optimum(name):
    problem = load_shipped(name)
    assert problem.name == name and problem.known_optimum.value == SHIPPED[name].optimum
    assert problem.known_optimum.proven


def test_shipped_optima_agree_with_the_manifest(benchmarks):
    known = manifest(benchmarks)
    for name, shipped in SHIPPED.items():
        assert known[(shipped.family, name)].value == shipped.optimum, name
        assert (shipped_path(shipped.file).read_bytes()
                == (benchmarks / manifest_entries(benchmarks)[(shipped.family, name)].file).read_bytes())


def test_shipped_solutions_reach_the_shipped_optima():
    tsp = load_shipped("ulysses16")
    assert tsp.evaluate(read_tsplib_tour(shipped_path("ulysses16.opt.tour"))) == tsp.known_optimum.value
    for name in ("nug12", "chr12a"):
        qap = load_shipped(name)
        value, perm = read_qaplib_solution(shipped_path(f"{name}.sln"))
        assert qap.evaluate(perm) == value == qap.known_optimum.value
    with pytest.raises(FileNotFoundError, match="available"):
        shipped_path("nope.tsp")
    with pytest.raises(ValueError, match="no shipped instance"):
        load_shipped("nope")
