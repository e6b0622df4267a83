#!/usr/bin/env bash
# Stop the local SLURM test cluster started by cluster/start.sh:
# slurmd, slurmctld, slurmdbd, MariaDB and munged (in that order).
# Processes are stopped by the pids in their pid files only.  Configuration,
# the accounting database and job history are kept; cluster/start.sh
# brings everything back.  Needs root.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=cluster/common.sh
source "$HERE/common.sh"

[[ $(id -u) -eq 0 ]] || die "must run as root"

stop_pidfile() {
    local name=$1 pidfile=$2 pid
    if ! pid_alive "$pidfile"; then
        log "$name not running"
        return 0
    fi
    pid=$(tr -dc '0-9' <"$pidfile")
    log "stopping $name (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 30); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 1
    done
    log "$name did not exit after 30 s; sending SIGKILL to pid $pid"
    kill -9 "$pid" 2>/dev/null || true
}

stop_pidfile slurmd "$SLURMD_PID"
stop_pidfile slurmctld "$SLURMCTLD_PID"
stop_pidfile slurmdbd "$SLURMDBD_PID"
if command -v mysqladmin >/dev/null && mysqladmin ping >/dev/null 2>&1; then
    log "stopping MariaDB"
    # mysqladmin shutdown stops mariadbd; mysqld_safe then exits on its own.
    mysqladmin shutdown || stop_pidfile MariaDB "$MYSQL_PID"
else
    log "MariaDB not running"
fi
stop_pidfile munged "$MUNGE_PID"
log "stopped"
