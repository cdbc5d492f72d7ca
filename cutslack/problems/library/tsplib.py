"""TSPLIB95 reader: ``.tsp`` instances (TSP and ATSP) and ``.opt.tour`` tours.

Distances follow TSPLIB95_DOC.pdf (Reinelt) to the integer, vectorised over all pairs:

* ``EUC_2D``  ``nint(sqrt(dx² + dy²))`` with ``nint(x) = floor(x + 0.5)``;
* ``CEIL_2D`` ``ceil(sqrt(dx² + dy²))``;
* ``ATT``     pseudo-Euclidean: ``r = sqrt((dx² + dy²) / 10)``, ``t = nint(r)``,
  ``d = t + 1 if t < r else t``;
* ``GEO``     ``DDD.MM`` coordinates (degrees and minutes) on the idealised sphere:
  ``PI = 3.141592``, ``deg = trunc(x)``, ``min = x - deg``,
  ``lat = PI (deg + 5 min / 3) / 180``, ``RRR = 6378.388`` and
  ``d = int(RRR acos(((1 + q1) q2 - (1 - q1) q3) / 2) + 1)``.  The document prints
  ``nint(x)`` for ``deg``, but its reference code (and Concorde) truncate; only
  truncation reproduces the published optimal tours of ulysses16/22, gr96 and gr202;
* ``EXPLICIT`` with ``EDGE_WEIGHT_FORMAT`` FULL_MATRIX, UPPER_ROW, LOWER_ROW,
  UPPER_DIAG_ROW, LOWER_DIAG_ROW and their column-wise twins (a column-wise upper
  triangle is the row-wise lower triangle of a symmetric matrix).

Why not a library: ``vrplib`` 2.2 (maintained) reads TSPLIB headers but computes VRP-style
distances — unrounded EUC_2D, no ATT or GEO, explicit LOWER_ROW and FULL_MATRIX only —
so it disagrees with TSPLIB's definition; ``tsplib95`` (0.7.1, last released 2020) computes
distances one pair at a time in Python and pulls in click, tabulate and Deprecated.  This
reader is small, vectorised, and checked against every published ``.opt.tour`` in the
benchmark library.
"""

from __future__ import annotations

import re

import numpy as np

from cutslack.config import check_memory
from cutslack.errors import ParseError, ProblemTooLargeError
from cutslack.problems.library._text import (TokenStream, build_instance, last_line, read_source, source_name,
                                             source_stem)
from cutslack.problems.tsp import METRICS, TravelingSalesman, coordinate_distance

__all__ = ["read_tsplib", "read_tsplib_tour", "tsplib_distances", "EDGE_WEIGHT_TYPES", "EDGE_WEIGHT_FORMATS",
           "MAX_CITIES"]

#: Coordinate-based edge weight types this reader computes, plus ``EXPLICIT``.
EDGE_WEIGHT_TYPES = ("EUC_2D", "CEIL_2D", "ATT", "GEO", "EXPLICIT")

#: Explicit formats: (triangle, include the diagonal); column-wise formats map to row-wise ones.
EDGE_WEIGHT_FORMATS = {
    "FULL_MATRIX": ("full", False),
    "UPPER_ROW": ("upper", False),
    "LOWER_ROW": ("lower", False),
    "UPPER_DIAG_ROW": ("upper", True),
    "LOWER_DIAG_ROW": ("lower", True),
    "UPPER_COL": ("lower", False),
    "LOWER_COL": ("upper", False),
    "UPPER_DIAG_COL": ("lower", True),
    "LOWER_DIAG_COL": ("upper", True),
}

#: EXPLICIT (dense) matrices are refused above this many cities (a float64 n×n matrix and
#: its temporaries would need several gigabytes).
MAX_CITIES = 12_000

_KEYWORD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(:?)\s*(.*)$")


def _parse(text: str, file: str) -> tuple[dict, dict, dict]:
    """Return ``(header, sections, header_lines)``: header values by keyword, the
    ``(line number, line)`` pairs of each ``*_SECTION``, and each keyword's line."""
    header: dict[str, str] = {}
    header_lines: dict[str, int] = {}
    sections: dict[str, list] = {}
    current = None
    header_lines["<END>"] = last_line(text)
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line == "EOF":
            break
        match = _KEYWORD.match(line) if line[0].isalpha() else None
        if match is None:
            if current is None:
                raise ParseError("expected a 'KEYWORD: value' line or a *_SECTION keyword, got data",
                                 file=file, line=number)
            sections[current].append((number, line))
            continue
        key, colon, rest = match.group(1).upper(), match.group(2), match.group(3)
        header_lines.setdefault(key, number)
        if key.endswith("_SECTION"):
            current = key
            sections[current] = [(number, rest)] if rest else []
            continue
        if not colon:
            raise ParseError(f"expected 'KEYWORD: value' after {key!r}", file=file, line=number)
        current = None
        if key == "COMMENT" and key in header:
            header[key] = f"{header[key]} {rest}"
        else:
            header[key] = rest.strip()
    return header, sections, header_lines


def _dimension(header: dict, header_lines: dict, file: str, *, dense: bool = True) -> int:
    if "DIMENSION" not in header:
        raise ParseError("expected a 'DIMENSION: n' line in the header", file=file, line=1)
    line = header_lines["DIMENSION"]
    try:
        n = int(header["DIMENSION"])
    except ValueError:
        raise ParseError(f"expected an integer DIMENSION, got {header['DIMENSION']!r}", file=file,
                         line=line) from None
    if n < 1:
        raise ParseError(f"expected a positive DIMENSION, got {n}", file=file, line=line)
    if dense and n > MAX_CITIES:
        raise ProblemTooLargeError("TSPLIB dense distance matrix (cities)", n, MAX_CITIES)
    return n


def _section(sections: dict, header_lines: dict, name: str, file: str, *, needed_by: str) -> TokenStream:
    if name not in sections:
        raise ParseError(f"expected a {name} ({needed_by})", file=file, line=header_lines["<END>"])
    return TokenStream(sections[name], file, what=name, end_line=header_lines[name] if not sections[name] else None)


def _coordinates(stream: TokenStream, n: int) -> np.ndarray:
    """Return the (n, 2) coordinates of a ``NODE_COORD_SECTION``-like stream (``id x y`` lines)."""
    line = stream.line
    values = stream.numbers(3 * n, f"numbers (id x y for {n} nodes)").reshape(n, 3)
    stream.expect_end(f"{n} 'id x y' lines")
    ids = values[:, 0]
    if np.any(ids != np.round(ids)) or not np.array_equal(np.sort(ids), np.arange(1, n + 1)):
        raise stream.error(f"expected node ids 1..{n}, each once", line=line)
    coords = np.empty((n, 2))
    coords[ids.astype(np.int64) - 1] = values[:, 1:]
    return coords


#: coordinates beyond this magnitude would overflow a squared distance (or, for GEO, are no
#: angle in DDD.MM form)
_MAX_COORDINATE = {"GEO": 1_000.0}
_MAX_EUCLIDEAN = 1e150


def _check_coordinates(coordinates: np.ndarray, metric: str, file: str, line: int) -> None:
    limit = _MAX_COORDINATE.get(metric, _MAX_EUCLIDEAN)
    too_big = np.abs(coordinates) > limit
    if too_big.any():
        node = int(np.argmax(too_big.any(axis=1)))
        raise ParseError(f"coordinate of node {node + 1} is {coordinates[node].tolist()}, beyond +-{limit:g} where "
                         f"{metric} distances are defined", file=file, line=line)


def tsplib_distances(coordinates, edge_weight_type: str) -> np.ndarray:
    """Return the TSPLIB integer distance matrix of ``(n, 2)`` coordinates.

    Parameters
    ----------
    coordinates : (n, 2) array
        ``x y`` per node (for ``GEO``: latitude and longitude as ``DDD.MM``).
    edge_weight_type : {"EUC_2D", "CEIL_2D", "ATT", "GEO"}

    Examples
    --------
    >>> float(tsplib_distances([[0, 0], [3, 4.4]], "EUC_2D")[0, 1])
    5.0
    """
    C = np.asarray(coordinates, dtype=float)
    if edge_weight_type not in METRICS[1:]:
        raise ValueError(f"unknown coordinate EDGE_WEIGHT_TYPE {edge_weight_type!r}; "
                         f"expected one of {EDGE_WEIGHT_TYPES[:-1]}")
    D = coordinate_distance(C[:, None, :], C[None, :, :], edge_weight_type)
    np.fill_diagonal(D, 0.0)
    return D


def _explicit(stream: TokenStream, n: int, edge_weight_format: str) -> np.ndarray:
    triangle, diagonal = EDGE_WEIGHT_FORMATS[edge_weight_format]
    # the matrix, the read numbers and (triangles) two index arrays of n^2/2 entries each
    check_memory("TSPLIB explicit distance matrix (n x n)", f"{n} cities", 24.0 * n * n)
    needed = n * n if triangle == "full" else (n * (n + 1) // 2 if diagonal else n * (n - 1) // 2)
    if needed > stream.remaining:  # a truncated file is refused before the matrix is allocated
        stream.numbers(needed, f"weights ({edge_weight_format}, n={n})")
    if triangle == "full":
        D = stream.numbers(n * n, f"weights ({n}x{n} FULL_MATRIX)").reshape(n, n)
    else:
        offset = 0 if diagonal else 1
        rows, cols = np.triu_indices(n, offset) if triangle == "upper" else np.tril_indices(n, -offset)
        D = np.zeros((n, n))
        D[rows, cols] = stream.numbers(rows.shape[0], f"weights ({edge_weight_format}, n={n})")
        D[cols, rows] = D[rows, cols]
    stream.expect_end(f"the {edge_weight_format} weights")
    return D


def _check_symmetric(distance: np.ndarray, stream: TokenStream, first_token: int) -> None:
    """Raise ParseError at the first entry ``(i, j)``, ``i < j``, whose mirror differs (TYPE: TSP
    promises ``d(i, j) = d(j, i)``; only a FULL_MATRIX can break it: triangles are mirrored)."""
    n = distance.shape[0]
    upper = np.triu(distance != distance.T, 1)
    if not upper.any():
        return
    i, j = (int(v) for v in np.argwhere(upper)[0])
    line = stream.lines[first_token + i * n + j] if first_token + i * n + j < len(stream.lines) else None
    raise stream.error(f"TYPE: TSP needs a symmetric matrix, but the distance from city {i + 1} to {j + 1} is "
                       f"{distance[i, j]:g} and back is {distance[j, i]:g}; write TYPE: ATSP to read it as "
                       f"an asymmetric TSP", line=line)


def read_tsplib(path_or_text) -> TravelingSalesman:
    """Return the :class:`~cutslack.problems.TravelingSalesman` of a TSPLIB ``.tsp`` file.

    Parameters
    ----------
    path_or_text : str or os.PathLike
        A path, or the file's text (any string containing a newline).

    Returns
    -------
    TravelingSalesman
        ``name`` from NAME without a ``.tsp`` suffix (else the file stem), integer distances as TSPLIB defines them,
        ``coordinates`` from NODE_COORD_SECTION (else DISPLAY_DATA_SECTION, when present),
        ``meta`` with ``type``, ``edge_weight_type``, ``edge_weight_format``, ``source``,
        ``comment``.  No ``known_optimum`` (see :func:`load_instance`).

    Raises
    ------
    ParseError
        With the file and line: missing DIMENSION or section, TYPE other than TSP/ATSP, TYPE TSP
        with an asymmetric FULL_MATRIX (the first pair named; TYPE ATSP reads it as asymmetric),
        unknown EDGE_WEIGHT_TYPE or EDGE_WEIGHT_FORMAT, too few or too many numbers,
        non-numeric tokens, node ids that are not 1..n.
    ProblemTooLargeError
        When an EXPLICIT matrix has more than :data:`MAX_CITIES` cities (coordinate instances
        of any size are read; their matrix is built lazily by the problem).

    Examples
    --------
    >>> text = "NAME: tri\\nTYPE: TSP\\nDIMENSION: 3\\nEDGE_WEIGHT_TYPE: EUC_2D\\n"
    >>> text += "NODE_COORD_SECTION\\n1 0 0\\n2 3 0\\n3 0 4\\nEOF\\n"
    >>> read_tsplib(text).evaluate([0, 1, 2])
    12.0
    """
    text, file = read_source(path_or_text)
    header, sections, header_lines = _parse(text, file)
    kind = (header.get("TYPE") or "TSP").split()[0].upper()
    if kind not in ("TSP", "ATSP"):
        raise ParseError(f"expected TYPE TSP or ATSP, got {header['TYPE']!r}", file=file,
                         line=header_lines.get("TYPE"))
    weight_type = header.get("EDGE_WEIGHT_TYPE", "").upper()
    n = _dimension(header, header_lines, file, dense=weight_type == "EXPLICIT")
    if weight_type not in EDGE_WEIGHT_TYPES:
        raise ParseError(f"unknown EDGE_WEIGHT_TYPE {header.get('EDGE_WEIGHT_TYPE', '')!r}; "
                         f"expected one of {', '.join(EDGE_WEIGHT_TYPES)}", file=file,
                         line=header_lines.get("EDGE_WEIGHT_TYPE", 1))
    weight_format = header.get("EDGE_WEIGHT_FORMAT", "").upper() or None
    coordinates = coordinates_from = meta_diagonal = None
    for name in ("NODE_COORD_SECTION", "DISPLAY_DATA_SECTION"):
        if name in sections:
            coordinates = _coordinates(_section(sections, header_lines, name, file, needed_by="coordinates"), n)
            coordinates_from = name
            break
    if weight_type == "EXPLICIT":
        if weight_format not in EDGE_WEIGHT_FORMATS:
            raise ParseError(f"unknown EDGE_WEIGHT_FORMAT {header.get('EDGE_WEIGHT_FORMAT', '')!r} for "
                             f"EXPLICIT weights; expected one of {', '.join(EDGE_WEIGHT_FORMATS)}", file=file,
                             line=header_lines.get("EDGE_WEIGHT_FORMAT", header_lines.get("EDGE_WEIGHT_TYPE")))
        stream = _section(sections, header_lines, "EDGE_WEIGHT_SECTION", file,
                          needed_by="EDGE_WEIGHT_TYPE is EXPLICIT")
        first_token = stream.pos
        distance = _explicit(stream, n, weight_format)
        if kind == "TSP":
            _check_symmetric(distance, stream, first_token)
        diagonal = np.diag(distance).copy()
        if diagonal.any():  # a don't-care the problem ignores (some files write 9999); kept, not dropped
            meta_diagonal = diagonal
    else:
        if "NODE_COORD_SECTION" not in sections:
            raise ParseError(f"expected a NODE_COORD_SECTION (EDGE_WEIGHT_TYPE is {weight_type})", file=file,
                             line=header_lines["<END>"])
        distance = None  # the problem computes TSPLIB distances from the coordinates (lazily when large)
    meta = {"type": kind, "edge_weight_type": weight_type, "edge_weight_format": weight_format,
            "source": source_name(file),
            "comment": header.get("COMMENT", "")}
    if coordinates is not None:
        meta["coordinates_from"] = coordinates_from
    if meta_diagonal is not None:
        meta["diagonal"] = meta_diagonal
    # a few files write the file name into NAME (ulysses16.tsp); the instance is its stem
    name = re.sub(r"\.tsp$", "", header.get("NAME", ""), flags=re.IGNORECASE) or source_stem(file, "tsplib")
    metric = None if weight_type == "EXPLICIT" else weight_type
    if coordinates is not None and metric is not None:
        _check_coordinates(coordinates, metric, file, header_lines.get(coordinates_from, 1))
    data_line = header_lines.get("EDGE_WEIGHT_SECTION" if distance is not None else coordinates_from, 1)
    return build_instance(TravelingSalesman, distance, coordinates, name=name, meta=meta, metric=metric, file=file,
                          line=data_line)


def read_tsplib_tour(path_or_text) -> np.ndarray:
    """Return the first tour of a TSPLIB ``.tour`` file as 0-based city indices.

    The TOUR_SECTION lists 1-based node ids and ends with ``-1`` (or at EOF).  The tour
    must visit every node once (DIMENSION nodes when the header gives it).

    Raises
    ------
    ParseError
        Missing TOUR_SECTION, non-integer ids, or ids that are not a permutation of 1..n.
    """
    text, file = read_source(path_or_text)
    header, sections, header_lines = _parse(text, file)
    stream = _section(sections, header_lines, "TOUR_SECTION", file, needed_by="a tour file lists its tour there")
    ids = stream.numbers(stream.remaining, "node ids", integer=True).astype(np.int64)
    stops = np.flatnonzero(ids == -1)
    tour = ids[: stops[0]] if stops.size else ids
    n = _dimension(header, header_lines, file, dense=False) if "DIMENSION" in header else tour.shape[0]
    if tour.shape[0] != n or not np.array_equal(np.sort(tour), np.arange(1, n + 1)):
        raise ParseError(f"expected the TOUR_SECTION to list node ids 1..{n} once each, got {tour.shape[0]} ids",
                         file=file, line=header_lines["TOUR_SECTION"])
    return tour - 1
