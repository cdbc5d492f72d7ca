"""Execute the example notebooks (small and seeded, each under a minute)."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.ipynb"))


@pytest.mark.examples
@pytest.mark.parametrize("notebook", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_notebook_runs(notebook, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(notebook, as_version=4)
    # each notebook checks what it promises in its own cells (a failed assert is an error output)
    promises = [c for c in nb.cells if c.cell_type == "code" and "assert " in c.source]
    assert promises, f"{notebook.name} asserts nothing it promises"
    client = nbclient.NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
