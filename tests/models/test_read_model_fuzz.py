"""Damaged MPS / LP files: read_model either reads them or raises a CutslackError, never anything else."""

from __future__ import annotations

import numpy as np
import pytest

from cutslack.binary import BinaryProgram
from cutslack.errors import CutslackError, ParseError
from cutslack.models import read_model, write_model

ALPHABET = list(b" \n0123456789-+.eEabcxyzNRBLGUPMI:<>=[]*^")


@pytest.mark.parametrize("ending", [".mps", ".lp"])
def test_mutated_files_raise_only_cutslack_errors(tmp_path, ending):
    program = BinaryProgram(c=[3, -2, 4, 1], Q=[[0, 1, 0, 0], [0, 0, -3, 0], [2, 0, 5, 0], [0, 0, 0, 0]], const=2.5,
                            sense="max", A_le=[[2, 1, 3, 0]], b_le=[4], A_eq=[[1, 1, 0, 1]], b_eq=[1])
    source = write_model(program, tmp_path / f"good{ending}").read_bytes()
    rng = np.random.default_rng(11)
    refused = 0
    for trial in range(40):
        data = bytearray(source)
        for _ in range(int(rng.integers(1, 6))):
            k = int(rng.integers(len(data)))
            op = int(rng.integers(3))
            if op == 0:
                data[k] = ALPHABET[int(rng.integers(len(ALPHABET)))]
            elif op == 1:
                del data[k]
            else:
                data.insert(k, int(rng.integers(256)))  # any byte, UTF-8 or not
        path = tmp_path / f"mutant{trial}{ending}"
        path.write_bytes(bytes(data))
        try:
            read_model(path)
        except ParseError as exc:
            refused += 1
            assert exc.file == str(path)
        except CutslackError:  # read, but refused: a damaged bound made a column general-integer...
            refused += 1
    assert refused > 0  # the mutations do break files


def test_names_that_are_not_utf8(tmp_path):
    path = tmp_path / "latin1.mps"
    path.write_bytes(b"NAME x\nROWS\n N obj\n L c1\nCOLUMNS\n a\xff obj 1 c1 1\nRHS\n RHS c1 1\n"
                     b"BOUNDS\n BV BND a\xff\nENDATA\n")
    with pytest.raises(ParseError, match="not valid UTF-8"):
        read_model(path)
