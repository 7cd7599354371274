#!/usr/bin/env bash
# A one-node Slurm cluster on localhost for tests, entirely inside one folder:
#
#   slurm_cluster.sh start DIR   # munged, slurmctld, slurmd; returns when the node is idle
#   slurm_cluster.sh stop DIR    # stops each daemon it started, by the pid in its pid file
#
# After `start`, `export SLURM_CONF=DIR/slurm.conf` points sbatch, squeue and
# scancel at this cluster. Needs root (slurmd starts jobs as their user);
# munged runs as user munge and slurmctld as user slurm, as in a real
# installation. Nothing outside DIR is touched, so it runs beside a real Slurm.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}
[[ $# -eq 2 ]] || usage
action=$1
dir=$(realpath -m "$2")

# Stops the daemons whose pid files are given: SIGTERM to all, then SIGKILL
# to any still running 15 s later.
stop_daemons() {
  local pids=() pid_file pid i alive
  for pid_file in "$@"; do
    [[ -s "$pid_file" ]] || continue
    pid=$(<"$pid_file")
    [[ "$pid" =~ ^[0-9]+$ ]] || continue
    kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
  done
  for ((i = 0; i < 150; i++)); do
    alive=()
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null && alive+=("$pid")
    done
    ((${#alive[@]} == 0)) && return 0
    sleep 0.1
  done
  for pid in "${alive[@]}"; do
    echo "slurm_cluster: pid $pid ignored SIGTERM; killing it" >&2
    kill -KILL "$pid" 2>/dev/null
  done
  return 0
}

if [[ "$action" == stop ]]; then
  # slurmd first, so that no job is left behind; slurmctld and munged then
  # together (each takes about 2 s to stop).
  stop_daemons "$dir/slurmd/slurmd.pid"
  stop_daemons "$dir/slurmctld/slurmctld.pid" "$dir/munge/munged.pid"
  exit 0
fi
[[ "$action" == start ]] || usage

if [[ $(id -u) -ne 0 ]]; then
  echo "slurm_cluster: needs root (slurmd runs jobs as their owner)" >&2
  exit 1
fi
for bin in munged slurmctld slurmd sinfo; do
  command -v "$bin" >/dev/null || PATH="$PATH:/usr/sbin"
  command -v "$bin" >/dev/null || {
    echo "slurm_cluster: $bin not found" >&2
    exit 1
  }
done

mkdir -p "$dir"
chmod 755 "$dir"
host=$(hostname -s)

# munge: its own key, socket, pid, log and seed; the directory belongs to
# munge and is closed to others, which munged checks.
install -d -m 0700 -o munge -g munge "$dir/munge"
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chown munge:munge "$dir/munge/munge.key"
chmod 0400 "$dir/munge/munge.key"
chmod 0755 "$dir/munge"  # clients must reach the socket
socket="$dir/munge/munge.socket"
runuser -u munge -- munged --socket="$socket" --key-file="$dir/munge/munge.key" \
  --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
  --seed-file="$dir/munge/munged.seed"

# slurm.conf: jobs start within a second of being eligible (bf_interval=1:
# worker arrays wait on a dependency that the backfill pass resolves, every
# 30 s by default); the node line from `slurmd -C` (this machine's real CPUs and
# memory), with at least 4 CPUs declared so a coordinator and two one-CPU
# workers fit at once on a 2-core machine; config_overrides makes slurmd
# accept the declared count.
install -d -m 0755 -o slurm -g slurm "$dir/slurmctld"
install -d -m 0755 "$dir/slurmd"
node=$(slurmd -C | head -n 1)
node_name=$(sed -n 's/^NodeName=\([^ ]*\).*/\1/p' <<<"$node")
cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$node")
if ((cpus < 4)); then
  node=$(sed "s/CPUs=[0-9]*/CPUs=4/; s/CoresPerSocket=[0-9]*/CoresPerSocket=$((4 / $(sed -n 's/.*SocketsPerBoard=\([0-9]*\).*/\1/p' <<<"$node")))/; s/ThreadsPerCore=[0-9]*/ThreadsPerCore=1/" <<<"$node")
fi
cat >"$dir/slurm.conf" <<CONF
ClusterName=unastest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
SlurmctldPort=$((20000 + RANDOM % 20000))
SlurmdPort=$((40000 + RANDOM % 20000))
StateSaveLocation=$dir/slurmctld
SlurmctldPidFile=$dir/slurmctld/slurmctld.pid
SlurmctldLogFile=$dir/slurmctld/slurmctld.log
SlurmdSpoolDir=$dir/slurmd
SlurmdPidFile=$dir/slurmd/slurmd.pid
SlurmdLogFile=$dir/slurmd/slurmd.log
KillWait=30
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=$node_name Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"

# The node is idle about a second later.
for ((i = 0; i < 300; i++)); do
  state=$(sinfo -h -n "$node_name" -o %t 2>/dev/null || true)
  [[ "$state" == idle ]] && exit 0
  sleep 0.1
done
echo "slurm_cluster: node $node_name not idle after 30 s (state '${state:-none}'); logs in $dir" >&2
exit 1
