"""cutslack.models sits on the floor of cutslack.binary: importing it loads no solver and no optional library."""

from __future__ import annotations

import json
import subprocess
import sys


def test_import_loads_nothing_above_the_floor():
    code = ("import json, sys; import cutslack.models; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('cutslack.solvers', 'cutslack.quantum', "
            "'cutslack.problems', 'dimod', 'qiskit', 'pyomo')))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []
