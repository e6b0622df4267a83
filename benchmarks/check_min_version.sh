#!/usr/bin/env bash
# Which Snakemake versions run this workflow and its profiles? Each version is installed
# in a throwaway virtual environment (with the SLURM executor plugin of pyproject.toml)
# and runs, on a copy of the repository whose `min_version` line is disabled:
#   1. a dry run of config/smoke.yaml with the default profile (profiles/default),
#   2. a dry run of config/paper.yaml with profiles/slurm,
#   3. a dry run of config/smoke.yaml with profiles/slurm + profiles/slurm-local,
#   4. with --run: the smoke configuration for real, locally (about two minutes).
# A version passes if all of them succeed. `min_version` in workflow/Snakefile is the
# oldest version that passes; the version just before it must fail (tests/test_min_version.py).
#
#   benchmarks/check_min_version.sh [--run] VERSION...
#   benchmarks/check_min_version.sh 9.14.0 9.13.7      # prints one line per version
#
# Needs network access to the package index; takes about a minute per version.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
run=0
if [[ ${1:-} == --run ]]; then
    run=1
    shift
fi
(($#)) || {
    echo "usage: $0 [--run] VERSION..." >&2
    exit 2
}
plugin=$(grep -o 'snakemake-executor-plugin-slurm==[0-9.]*' "$ROOT/pyproject.toml" | head -n1)
# The jobs' own libraries (pyproject.toml's pins, Snakemake left out), for --run.
mapfile -t libraries < <("$PYTHON" -c '
import sys, tomllib
deps = tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]
print("\n".join(d for d in deps if not d.startswith("snakemake")))' "$ROOT/pyproject.toml")
work=$(mktemp -d /tmp/implicit-reg-min-version.XXXXXX)
trap 'rm -rf "$work"' EXIT

# A copy of the tracked files (symbolic links kept), min_version disabled.
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) |
    (mkdir -p "$work/repo" && cd "$work/repo" && tar -xf -)
sed -i 's/^min_version(.*)$/# min_version disabled by check_min_version.sh/' "$work/repo/workflow/Snakefile"

status=0
for version in "$@"; do
    venv="$work/venv-$version"
    log="$work/$version.log"
    if ! { "$PYTHON" -m venv "$venv" && "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "snakemake==$version" "$plugin" pandas pyarrow; } >"$log" 2>&1; then
        echo "snakemake $version: FAIL (cannot be installed with $plugin): $(tail -n 3 "$log" | tr '\n' ' ')"
        status=1
        continue
    fi
    sm=("$venv/bin/python" -m snakemake)
    failed=""
    (cd "$work/repo" && "${sm[@]}" -n --configfile config/smoke.yaml) >>"$log" 2>&1 ||
        failed="dry run with profiles/default"
    [[ -z $failed ]] && { (cd "$work/repo" && "${sm[@]}" -n --workflow-profile none \
        --profile profiles/slurm --configfile config/paper.yaml) >>"$log" 2>&1 ||
        failed="dry run with profiles/slurm"; }
    [[ -z $failed ]] && { (cd "$work/repo" && "${sm[@]}" -n --workflow-profile none \
        --profile profiles/slurm --profile profiles/slurm-local --configfile config/smoke.yaml) \
        >>"$log" 2>&1 || failed="dry run with profiles/slurm and profiles/slurm-local"; }
    if [[ -z $failed ]] && ((run)); then
        rm -rf "$work/run" && mkdir -p "$work/run"
        { "$venv/bin/pip" install --quiet --disable-pip-version-check "${libraries[@]}" &&
            (cd "$work/repo" && "${sm[@]}" --cores 2 --configfile config/smoke.yaml \
                -d "$work/run"); } >>"$log" 2>&1 || failed="run of config/smoke.yaml"
    fi
    if [[ -z $failed ]]; then
        echo "snakemake $version: PASS"
    else
        reason=$(grep -E 'Error|error:|Exception' "$log" | tail -n 2 | tr '\n' ' ')
        echo "snakemake $version: FAIL ($failed): ${reason:-see the log}"
        status=1
    fi
    rm -rf "$venv"
done
exit $status
