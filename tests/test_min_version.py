"""`min_version` in workflow/Snakefile is the oldest Snakemake that runs the workflow and
its profiles: that version passes benchmarks/check_min_version.sh (dry runs with every
profile and a real run of the smoke configuration) and the release before it fails.

Installs both versions from the package index in throwaway virtual environments (a few
minutes), so it runs only when asked: IMPLICIT_REG_CHECK_MIN_VERSION=1 pytest
tests/test_min_version.py
"""

import os
import re
import subprocess

import pytest

#: The Snakemake release just before `min_version` (update both together).
PREVIOUS = "9.18.2"

pytestmark = pytest.mark.skipif(
    os.environ.get("IMPLICIT_REG_CHECK_MIN_VERSION") != "1",
    reason="installs Snakemake releases from the package index: set "
    "IMPLICIT_REG_CHECK_MIN_VERSION=1 to run",
)


def test_min_version_runs_and_the_release_before_does_not(root):
    minimum = re.search(
        r'^min_version\("([0-9.]+)"\)', (root / "workflow" / "Snakefile").read_text(), re.M
    ).group(1)
    assert tuple(map(int, PREVIOUS.split("."))) < tuple(map(int, minimum.split(".")))
    check = subprocess.run(
        ["bash", str(root / "benchmarks" / "check_min_version.sh"), "--run", minimum, PREVIOUS],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    print(check.stdout)
    assert f"snakemake {minimum}: PASS" in check.stdout, check.stdout + check.stderr
    assert f"snakemake {PREVIOUS}: FAIL" in check.stdout, check.stdout + check.stderr
