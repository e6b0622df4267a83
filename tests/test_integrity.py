"""Outputs whole or not at all: the parse-time damage check, atomic writes, the stale lock."""

from __future__ import annotations

import subprocess
import sys
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from implicit_reg import integrity
from implicit_reg.atomic import replacing
from implicit_reg.plotting import save_figure
from implicit_reg.tables import write_table


@pytest.fixture
def outputs(tmp_path):
    """One whole file of each checked format."""
    write_table(pd.DataFrame({"x": np.arange(100.0)}), tmp_path / "t.parquet", {"seed": 1})
    np.savez_compressed(tmp_path / "a.npz", w=np.ones((20, 20)))
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    save_figure(fig, tmp_path / "f.png", tmp_path / "f.pdf")
    return [tmp_path / name for name in ("t.parquet", "a.npz", "f.png", "f.pdf")]


def test_whole_outputs_pass_and_missing_ones_are_not_damaged(outputs, tmp_path):
    assert integrity.damaged(outputs) == []
    assert integrity.damage(tmp_path / "absent.parquet") is None


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.0])
def test_cut_short_or_empty_outputs_are_damaged(outputs, keep):
    for path in outputs:
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * keep)])
    found = dict(integrity.damaged(outputs))
    assert sorted(found) == sorted(map(str, outputs)), found
    if keep == 0.0:
        assert set(found.values()) == {"empty"}


def test_foreign_files_are_damaged(outputs):
    for path in outputs:
        path.write_bytes(b"not what the workflow writes, " * 20)
    assert len(integrity.damaged(outputs)) == len(outputs)


def test_damaged_files_are_set_aside_with_one_line_each(outputs, tmp_path):
    table = outputs[0]
    table.write_bytes(table.read_bytes()[:-5])
    lines = integrity.set_aside_damaged(outputs, tmp_path / "aside")
    assert len(lines) == 1 and lines[0].startswith(f"{table}: cut short")
    assert not table.exists()
    assert (tmp_path / "aside" / table.relative_to("/")).is_file()


def test_an_interrupted_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError), replacing(path) as part:
        part.write_text("half of the new")
        raise RuntimeError("disk full")
    assert path.read_text() == "old"
    assert list(tmp_path.iterdir()) == [path]


def test_stale_lock_is_kept_while_a_job_of_a_killed_run_is_alive(tmp_path, root):
    """A job outlives a Snakemake killed with SIGKILL: the lock stays until it ends."""
    (tmp_path / ".snakemake" / "locks").mkdir(parents=True)
    (tmp_path / ".snakemake" / "locks" / "0.output.lock").write_text("results/x\n")
    script = root / "workflow" / "scripts" / "simulate.py"
    job = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", str(script)], cwd=tmp_path
    )
    try:
        time.sleep(0.2)
        check = subprocess.run(
            [sys.executable, str(root / "workflow" / "scripts" / "stale_lock.py")],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        job.kill()
        job.wait()
    assert check.returncode == 1
    assert f"pid {job.pid} (job simulate.py)" in check.stderr
    assert (tmp_path / ".snakemake" / "locks" / "0.output.lock").exists()
