#!/usr/bin/env bash
# Exit 0 if the local SLURM test cluster is up and accepting jobs, 1 if not
# (with the reason on stderr).  Quick: submits nothing (uses sbatch --test-only).
#   cluster/status.sh        # terse
#   cluster/status.sh -v     # also print sinfo / sacctmgr summary
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=cluster/common.sh
source "$HERE/common.sh"

verbose=0
[[ ${1:-} == -v ]] && verbose=1

down() {
    printf '[cluster] DOWN: %s\n' "$*" >&2
    exit 1
}

for cmd in munge unmunge sinfo sbatch sacct sacctmgr scontrol; do
    command -v "$cmd" >/dev/null 2>&1 || down "'$cmd' not installed (run cluster/start.sh)"
done
[[ -r $SLURM_CONF ]] || down "$SLURM_CONF missing (run cluster/start.sh)"
munge -n 2>/dev/null | unmunge >/dev/null 2>&1 || down "munge round trip fails (munged not running?)"
# The compute node is this machine: slurmctld notices a dead slurmd only
# after SlurmdTimeout, so check the daemons' pid files directly as well.
pid_alive "$SLURMCTLD_PID" || down "slurmctld not running (no live pid in $SLURMCTLD_PID)"
pid_alive "$SLURMD_PID" || down "slurmd not running (no live pid in $SLURMD_PID)"
pid_alive "$SLURMDBD_PID" || down "slurmdbd not running (no live pid in $SLURMDBD_PID)"
timeout 20 scontrol ping 2>/dev/null | grep -q 'is UP' || down "slurmctld not answering (scontrol ping)"
timeout 20 sacctmgr -n -P show cluster format=cluster 2>/dev/null | grep -qx "$SLURM_CLUSTER_NAME" ||
    down "slurmdbd not answering or cluster '$SLURM_CLUSTER_NAME' not registered (sacctmgr)"
timeout 20 sacct -n -X -S now-1minutes -o JobID >/dev/null 2>&1 || down "sacct fails (accounting unavailable)"
states=$(timeout 20 sinfo -h -p "$SLURM_TEST_PARTITION" -o '%T' 2>/dev/null || true)
[[ -n $states ]] || down "partition '$SLURM_TEST_PARTITION' has no nodes"
grep -qE '^(idle|mixed|allocated|completing)$' <<<"$states" || down "no usable node in '$SLURM_TEST_PARTITION' (states: ${states//$'\n'/ })"
timeout 20 sbatch --test-only -A "$SLURM_TEST_ACCOUNT" -p "$SLURM_TEST_PARTITION" --mem=64 -t 1 \
    --wrap true >/dev/null 2>&1 || down "sbatch --test-only rejects a trivial job"

if ((verbose)); then
    sinfo
    sacctmgr -n show assoc format=cluster%20,account%20,user%12
fi
echo "[cluster] UP: cluster=$SLURM_CLUSTER_NAME account=$SLURM_TEST_ACCOUNT partition=$SLURM_TEST_PARTITION"
