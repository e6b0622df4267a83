"""Jobs receive their description as one shell argument, or a file when it is too long."""

import json
import subprocess
import sys

from implicit_reg import jobargs


def test_short_document_is_inline_json(tmp_path):
    document = {"params": {"family": "risk", "point": {"n": 30}}, "threads": 1}
    text = jobargs.encode(document, tmp_path / "jobs")
    assert json.loads(text) == document and not (tmp_path / "jobs").exists()
    assert jobargs.decode(text) == document


def test_long_document_goes_to_one_file_named_by_its_content(tmp_path):
    document = {"input": {"runs": [f"results/risk/runs/x/n={i}.parquet" for i in range(5000)]}}
    first = jobargs.encode(document, tmp_path / "jobs")
    again = jobargs.encode(document, tmp_path / "jobs")
    assert first.startswith("@") and first == again
    assert len(list((tmp_path / "jobs").iterdir())) == 1
    assert jobargs.decode(first) == document
    other = jobargs.encode({**document, "threads": 2}, tmp_path / "jobs")
    assert other != first and jobargs.decode(other)["threads"] == 2


def test_script_reads_a_spilled_job(root, tmp_path):
    """A workflow script's `read_job` takes ``@file`` as it takes inline JSON."""
    document = {
        "params": {"big": "x" * 200_000},
        "wildcards": {},
        "input": {},
        "output": {"out": str(tmp_path / "out.txt")},
        "threads": 1,
    }
    argument = jobargs.encode(document, tmp_path / "jobs")
    assert argument.startswith("@")
    code = (
        "import sys; sys.path.insert(0, sys.argv.pop(1)); from jobsetup import read_job; "
        "job = read_job(); open(job.output.out, 'w').write(str(len(job.params.big)))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(root / "workflow" / "scripts"), argument],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "out.txt").read_text() == "200000"
