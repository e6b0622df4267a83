#!/usr/bin/env bash
# Start a single-node SLURM cluster with accounting on localhost, for tests.
#
#   sudo cluster/start.sh      # idempotent: does only what is missing
#
# Installs Debian's slurm-wlm, slurmdbd, munge and mariadb-server if needed,
# writes /etc/slurm/slurm.conf and /etc/slurm/slurmdbd.conf, starts munged,
# MariaDB, slurmdbd, slurmctld and slurmd directly (no systemd needed),
# registers cluster/account/user with sacctmgr, and finally checks that a
# trivial batch job runs and shows up in sacct.  Needs root.
#
# Settings (environment): SLURM_CLUSTER_NAME (implicitreg),
# SLURM_TEST_ACCOUNT (implicitreg), SLURM_TEST_PARTITION (debug).
# Stop with cluster/stop.sh; check with cluster/status.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=cluster/common.sh
source "$HERE/common.sh"

[[ $(id -u) -eq 0 ]] || die "must run as root (installs packages and starts system daemons)"

if [[ $(cat /proc/1/comm 2>/dev/null) == systemd ]]; then
    log "note: systemd is PID 1; starting daemons directly anyway (no unit files touched)"
fi

# --------------------------------------------------------------------------
# 1. packages
# --------------------------------------------------------------------------
PACKAGES=(slurm-wlm slurmctld slurmd slurm-client slurmdbd munge mariadb-server mariadb-client)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || die "apt-get update failed"
    # policy-rc.d in containers may refuse to start services during install;
    # that is fine, we start everything ourselves below.
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/implicit-reg-slurm-apt.log 2>&1 ||
        die "apt-get install failed, see /tmp/implicit-reg-slurm-apt.log"
else
    log "packages present"
fi
for cmd in munged slurmctld slurmd slurmdbd sacctmgr sbatch sinfo sacct mysqld_safe mysql; do
    command -v "$cmd" >/dev/null || die "command '$cmd' not found after installation"
done

# --------------------------------------------------------------------------
# 2. munge
# --------------------------------------------------------------------------
install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
install -d -o munge -g munge -m 0755 /run/munge
if [[ ! -s /etc/munge/munge.key ]]; then
    log "creating munge key"
    if command -v mungekey >/dev/null; then
        runuser -u munge -- mungekey --create --keyfile=/etc/munge/munge.key
    else
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
if pid_alive "$MUNGE_PID"; then
    log "munged already running"
else
    log "starting munged (as user munge)"
    rm -f /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock
    runuser -u munge -- /usr/sbin/munged || die "munged failed to start, see /var/log/munge/munged.log"
fi
munge_ok() { munge -n | unmunge; }
wait_for 20 munge munge_ok || die "munge round trip (munge -n | unmunge) fails"

# --------------------------------------------------------------------------
# 3. MariaDB + database for slurmdbd
# --------------------------------------------------------------------------
install -d -o mysql -g mysql -m 0755 /run/mysqld
if [[ ! -d /var/lib/mysql/mysql ]]; then
    log "initialising MariaDB data directory"
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/tmp/implicit-reg-mariadb-init.log 2>&1 ||
        die "mariadb-install-db failed, see /tmp/implicit-reg-mariadb-init.log"
fi
if mysqladmin ping >/dev/null 2>&1; then
    log "MariaDB already running"
else
    log "starting MariaDB (mysqld_safe)"
    # setsid + nohup: detach from this shell so it survives the script.
    setsid nohup mysqld_safe --user=mysql --pid-file="$MYSQL_PID" >/var/log/implicit-reg-mysqld_safe.log 2>&1 </dev/null &
    wait_for 60 mariadb mysqladmin ping || die "MariaDB did not come up in 60 s, see /var/log/mysql/ and /var/log/implicit-reg-mysqld_safe.log"
fi
log "ensuring database $SLURMDBD_DB and user $SLURMDBD_DB_USER"
mysql -u root <<SQL || die "could not create the slurmdbd database/user (mysql as root over the unix socket)"
CREATE DATABASE IF NOT EXISTS $SLURMDBD_DB;
CREATE USER IF NOT EXISTS '$SLURMDBD_DB_USER'@'localhost' IDENTIFIED BY '$SLURMDBD_DB_PASS';
ALTER USER '$SLURMDBD_DB_USER'@'localhost' IDENTIFIED BY '$SLURMDBD_DB_PASS';
GRANT ALL PRIVILEGES ON $SLURMDBD_DB.* TO '$SLURMDBD_DB_USER'@'localhost';
FLUSH PRIVILEGES;
SQL

# --------------------------------------------------------------------------
# 4. configuration files
# --------------------------------------------------------------------------
install -d -m 0755 "$SLURM_ETC"
install -d -o slurm -g slurm -m 0755 "$SLURM_STATE" "$SLURM_STATE/slurmctld" "$SLURM_LOG" "$SLURM_RUN"
install -d -o root -g root -m 0755 "$SLURM_STATE/slurmd"

NODE=$(hostname -s)
CPUS=$(nproc)
MEM_TOTAL=$(free -m | awk '/^Mem:/ {print $2}')
# Leave headroom for the OS and the daemons; slurmd marks the node invalid
# if RealMemory exceeds what it detects.
REAL_MEM=$((MEM_TOTAL * 9 / 10))
((REAL_MEM > 256)) || die "too little memory for a test cluster (free -m total: ${MEM_TOTAL} MB)"

changed=0
# install_if_changed TMPFILE DEST MODE OWNER
install_if_changed() {
    local tmp=$1 dest=$2 mode=$3 owner=$4
    if [[ -f $dest ]] && cmp -s "$tmp" "$dest"; then
        rm -f "$tmp"
    else
        log "writing $dest"
        install -m "$mode" -o "${owner%:*}" -g "${owner#*:}" "$tmp" "$dest"
        rm -f "$tmp"
        changed=1
    fi
    chmod "$mode" "$dest"
    chown "$owner" "$dest"
}

tmp=$(mktemp)
cat >"$tmp" <<EOF
# Written by implicit-reg cluster/start.sh: local single-node test cluster.
# Do not edit by hand; edit cluster/start.sh and rerun it.
ClusterName=$SLURM_CLUSTER_NAME
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmctldPidFile=$SLURMCTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmdSpoolDir=$SLURM_STATE/slurmd
StateSaveLocation=$SLURM_STATE/slurmctld
SwitchType=switch/none
SlurmctldLogFile=$SLURM_LOG/slurmctld.log
SlurmdLogFile=$SLURM_LOG/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info

# Scheduling: start jobs as soon as they are submitted.
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=5,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=256
MessageTimeout=10
SlurmctldTimeout=60
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
MinJobAge=300
Waittime=0

# Accounting: required, the Snakemake executor plugin polls job status with sacct.
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
JobCompType=jobcomp/none

NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$REAL_MEM State=UNKNOWN
PartitionName=$SLURM_TEST_PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
install_if_changed "$tmp" "$SLURM_CONF" 0644 root:root

tmp=$(mktemp)
cat >"$tmp" <<EOF
# Written by implicit-reg cluster/start.sh: local single-node test cluster.
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
SlurmUser=slurm
LogFile=$SLURM_LOG/slurmdbd.log
PidFile=$SLURMDBD_PID
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=$SLURMDBD_DB_USER
StoragePass=$SLURMDBD_DB_PASS
StorageLoc=$SLURMDBD_DB
EOF
# slurmdbd refuses a config readable by others.
install_if_changed "$tmp" "$SLURMDBD_CONF" 0600 slurm:slurm

if ((changed)); then
    for pf in "$SLURMD_PID" "$SLURMCTLD_PID" "$SLURMDBD_PID"; do
        if pid_alive "$pf"; then
            log "configuration changed: stopping the daemon of $pf to restart it"
            kill "$(cat "$pf")" || true
            for _ in $(seq 30); do pid_alive "$pf" || break; sleep 1; done
        fi
    done
fi

# --------------------------------------------------------------------------
# 5. slurmdbd + accounting entities
# --------------------------------------------------------------------------
if pid_alive "$SLURMDBD_PID"; then
    log "slurmdbd already running"
else
    log "starting slurmdbd"
    slurmdbd || die "slurmdbd failed to start, see $SLURM_LOG/slurmdbd.log"
fi
dbd_ok() { sacctmgr -n show cluster; }
wait_for 60 slurmdbd dbd_ok || die "slurmdbd not answering after 60 s, see $SLURM_LOG/slurmdbd.log"

has() { [[ -n $(sacctmgr -n -P "$@" 2>/dev/null) ]]; }
if ! has show cluster "$SLURM_CLUSTER_NAME" format=cluster; then
    log "sacctmgr: adding cluster $SLURM_CLUSTER_NAME"
    sacctmgr -i add cluster "$SLURM_CLUSTER_NAME" >/dev/null || die "sacctmgr add cluster failed"
fi
if ! has show account "$SLURM_TEST_ACCOUNT" format=account; then
    log "sacctmgr: adding account $SLURM_TEST_ACCOUNT"
    sacctmgr -i add account "$SLURM_TEST_ACCOUNT" cluster="$SLURM_CLUSTER_NAME" \
        description="implicit-reg tests" organization=implicitreg >/dev/null || die "sacctmgr add account failed"
fi
users=(root)
[[ -n ${SUDO_USER:-} && ${SUDO_USER} != root ]] && users+=("$SUDO_USER")
for u in "${users[@]}"; do
    if ! has show assoc where user="$u" account="$SLURM_TEST_ACCOUNT" cluster="$SLURM_CLUSTER_NAME" format=user; then
        log "sacctmgr: adding user $u to account $SLURM_TEST_ACCOUNT"
        sacctmgr -i add user "$u" account="$SLURM_TEST_ACCOUNT" cluster="$SLURM_CLUSTER_NAME" \
            defaultaccount="$SLURM_TEST_ACCOUNT" >/dev/null || die "sacctmgr add user $u failed"
    fi
done

# --------------------------------------------------------------------------
# 6. slurmctld + slurmd
# --------------------------------------------------------------------------
if pid_alive "$SLURMCTLD_PID"; then
    log "slurmctld already running"
else
    log "starting slurmctld"
    slurmctld || die "slurmctld failed to start, see $SLURM_LOG/slurmctld.log"
fi
wait_for 60 slurmctld scontrol ping || die "slurmctld not answering after 60 s, see $SLURM_LOG/slurmctld.log"
if pid_alive "$SLURMD_PID"; then
    log "slurmd already running"
else
    log "starting slurmd"
    slurmd || die "slurmd failed to start, see $SLURM_LOG/slurmd.log"
fi

node_state() { sinfo -h -n "$NODE" -o '%T' 2>/dev/null | head -n1; }
node_idle() { [[ $(node_state) =~ ^(idle|mixed|allocated|completing)$ ]]; }
if ! wait_for 30 node node_idle; then
    st=$(node_state)
    if [[ $st =~ (down|drain|fail|unknown) ]]; then
        log "node $NODE is '$st'; resuming it"
        scontrol update nodename="$NODE" state=resume || true
    fi
    wait_for 60 node node_idle ||
        die "node $NODE not idle (state: '$(node_state)'), see $SLURM_LOG/slurmd.log and 'scontrol show node'"
fi
log "node $NODE is $(node_state): CPUs=$CPUS RealMemory=${REAL_MEM}MB partition=$SLURM_TEST_PARTITION"

# --------------------------------------------------------------------------
# 7. smoke check: a batch job runs and sacct lists it
# --------------------------------------------------------------------------
out=$(mktemp -d)
chmod 0777 "$out"
jobid=$(sbatch --parsable -A "$SLURM_TEST_ACCOUNT" -p "$SLURM_TEST_PARTITION" -J implicitreg-check \
    -o "$out/check.out" --mem=64 -t 1 --wrap hostname) || die "sbatch --wrap hostname was rejected"
jobid=${jobid%%;*}
log "submitted check job $jobid"
job_done() { [[ $(sacct -n -X -P -j "$jobid" -o State 2>/dev/null | head -n1) == COMPLETED ]]; }
if ! wait_for 90 "job $jobid" job_done; then
    die "check job $jobid did not complete within 90 s (sacct state: '$(sacct -n -X -P -j "$jobid" -o State | head -n1)'; squeue: '$(squeue -h -j "$jobid" -o '%T %r' 2>/dev/null)')"
fi
[[ $(cat "$out/check.out") == "$NODE" ]] || die "check job output unexpected: '$(cat "$out/check.out")'"
rm -rf "$out"
log "check job $jobid COMPLETED and listed by sacct"
log "cluster '$SLURM_CLUSTER_NAME' is up: account=$SLURM_TEST_ACCOUNT partition=$SLURM_TEST_PARTITION"
