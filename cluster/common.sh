# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this
# Shared settings for the local single-node SLURM test cluster (sourced by
# start.sh, stop.sh and status.sh; not meant to be executed on its own).
#
# Layout follows what Debian 12's Slurm 22.05 packages expect:
#   /etc/slurm/slurm.conf, /etc/slurm/slurmdbd.conf   configuration
#   /var/lib/slurm/{slurmctld,slurmd}                 state / spool
#   /var/log/slurm/*.log                              daemon logs
#   /run/slurm/*.pid                                  pid files
# MariaDB and munge use their Debian defaults (/var/lib/mysql, /etc/munge).

SLURM_CLUSTER_NAME="${SLURM_CLUSTER_NAME:-implicitreg}"
SLURM_TEST_ACCOUNT="${SLURM_TEST_ACCOUNT:-implicitreg}"
SLURM_TEST_PARTITION="${SLURM_TEST_PARTITION:-debug}"

SLURM_ETC=/etc/slurm
SLURM_CONF="$SLURM_ETC/slurm.conf"
SLURMDBD_CONF="$SLURM_ETC/slurmdbd.conf"
SLURM_STATE=/var/lib/slurm
SLURM_LOG=/var/log/slurm
SLURM_RUN=/run/slurm

SLURMDBD_DB=slurm_acct_db
SLURMDBD_DB_USER=slurm
# Local throwaway test cluster only: the database listens on localhost and
# the password never leaves this machine.
SLURMDBD_DB_PASS=implicitreg-slurmdbd

MUNGE_PID=/run/munge/munged.pid
MYSQL_PID=/run/mysqld/mysqld.pid
SLURMDBD_PID="$SLURM_RUN/slurmdbd.pid"
SLURMCTLD_PID="$SLURM_RUN/slurmctld.pid"
SLURMD_PID="$SLURM_RUN/slurmd.pid"

export SLURM_CONF

log() { printf '[cluster] %s\n' "$*"; }
die() {
    printf '[cluster] ERROR: %s\n' "$*" >&2
    exit 1
}

# pid_alive PIDFILE: true if the file names a running process (works for
# non-root callers too, unlike kill -0 on another user's process).
pid_alive() {
    local pidfile=$1 pid
    [[ -r $pidfile ]] || return 1
    pid=$(tr -dc '0-9' <"$pidfile")
    [[ -n $pid && -d /proc/$pid ]]
}

# wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND once a second.
wait_for() {
    local timeout=$1 what=$2 i
    shift 2
    for ((i = 0; i < timeout; i++)); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        sleep 1
    done
    log "timed out after ${timeout} s waiting for $what"
    return 1
}
