#!/usr/bin/env bash
# A real Slurm test of deploy/slurm/launch (CTest label `slurm`):
#
#   slurm_launch_test.sh BIN_DIR
#
# Starts munged, slurmctld and slurmd for a one-node cluster on localhost in a
# temporary folder (tests/deploy/slurm_cluster.sh), then
#  1. launches a small synthetic search (coordinator + 2 CPU-only workers),
#     waits for every job to end and checks the database: the job succeeded
#     with all its evaluations, both workers contributed, each daemon exited
#     cleanly and the worker array was cancelled by the coordinator job;
#  2. launches a longer search, scancels the coordinator job mid-way and
#     checks that every job ends and every daemon stops cleanly;
#  3. launches it again into the same run folder and checks that it resumes
#     the same search job and finishes it with exactly its rounds.
# TLS and tokens (the launcher's default) are used when this build has them.
# Every daemon and job it started is stopped by its pid or job id on exit,
# also on failure. Exit 77 (CTest: skipped) without Slurm, munge or root.
set -uo pipefail

bin_dir=${1:?usage: slurm_launch_test.sh BIN_DIR}
bin_dir=$(realpath "$bin_dir")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
PATH="$PATH:/usr/sbin:/sbin"

skip() {
  echo "SKIPPED: $*"
  exit 77
}
for b in munged slurmctld slurmd sbatch squeue scancel scontrol; do
  command -v "$b" >/dev/null || skip "$b not installed (Debian: slurmctld slurmd slurm-client munge)"
done
[[ $(id -u) -eq 0 ]] || skip "needs root to run slurmd"
id munge >/dev/null 2>&1 && id slurm >/dev/null 2>&1 || skip "users munge and slurm missing"

start_time=$(date +%s.%N)
tmp=$(mktemp -d /tmp/unas-slurm-test.XXXXXX)
chmod 755 "$tmp"
failed=0
check_pid=""

seconds_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

fail() {
  echo "FAILED: $*"
  failed=1
}

cleanup() {
  local run id
  # Our jobs first (by id), while slurmd still runs to stop them.
  for run in "$tmp"/run*; do
    for id in $(sed -n 's/^[a-z]*=//p' "$run/jobs" 2>/dev/null); do
      scancel "$id" 2>/dev/null
    done
  done
  for ((i = 0; i < 300; i++)); do
    [[ -z "$(squeue -h 2>/dev/null)" ]] && break
    sleep 0.1
  done
  if [[ -n "$check_pid" ]] && kill -0 "$check_pid" 2>/dev/null; then
    kill -TERM "$check_pid"
    wait "$check_pid"
  fi
  "$here/slurm_cluster.sh" stop "$tmp/cluster"
  if ((failed)); then
    echo "--- logs kept in $tmp"
    for f in "$tmp"/run*/slurm-*.out "$tmp"/run*/coordinator.log; do
      [[ -f "$f" ]] && { echo "--- $f"; tail -n 30 "$f"; }
    done
    echo "--- slurmctld.log"
    tail -n 20 "$tmp/cluster/slurmctld/slurmctld.log" 2>/dev/null
  else
    rm -rf "$tmp"
  fi
  echo "slurm test took $(seconds_since "$start_time") s"
}
trap cleanup EXIT
trap 'fail "interrupted"; exit 1' TERM INT

"$here/slurm_cluster.sh" start "$tmp/cluster" || {
  fail "the one-node cluster did not start"
  exit 1
}
export SLURM_CONF="$tmp/cluster/slurm.conf"
export UNAS_POLL_SECONDS=1  # the coordinator job's progress poll

security=()
if "$bin_dir/unas-coordinator" --help 2>&1 | grep -q -- '--tls-cert'; then
  echo "security: TLS and tokens (the launcher's default)"
else
  echo "security: this build has no TLS; testing --insecure"
  security=(--insecure)
fi

# Waits until none of the given Slurm jobs is pending or running; $1 is the
# limit in seconds.
wait_jobs_gone() {
  local limit=$1 i
  shift
  for ((i = 0; i < limit * 10; i++)); do
    [[ -z "$(squeue -h -j "$(
      IFS=,
      echo "$*"
    )" 2>/dev/null)" ]] && return 0
    sleep 0.1
  done
  return 1
}
job_field() { scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }

spec() {  # name rounds lease_ttl_seconds
  cat <<EOF
name: "$1"
dataset { name: DATASET_NAME_FASHION_MNIST }
search_space {
  kind: SEARCH_SPACE_KIND_CNN
  cnn { max_conv_blocks: 3 max_filters: 16 }
}
algorithm {
  aging_evolution { population_size: 6 sample_size: 3 }
  rounds: $2
}
training {
  optimizer { kind: OPTIMIZER_KIND_ADAM learning_rate: 0.001 }
  epochs: 1
}
bounds { error: 0.3 peak_memory_bytes: 20000 model_size_bytes: 20000 }
seed: 9
lease_ttl_seconds: $3
EOF
}

# ---- 1. a search that runs to its end ----------------------------------------
spec slurm_test 40 120 >"$tmp/search.textproto"
run="$tmp/run1"
if ! out=$("$repo/deploy/slurm/launch" "$tmp/search.textproto" --workers 2 --cpu-only \
  --synthetic --synthetic-delay-ms 50 --run-dir "$run" --bin-dir "$bin_dir" \
  --time 5 "${security[@]}" 2>&1); then
  fail "launch: $out"
  exit 1
fi
echo "$out"
coordinator_job=$(sed -n 's/^coordinator=//p' "$run/jobs")
worker_job=$(sed -n 's/^workers=//p' "$run/jobs")
[[ "$out" == *"coordinator job  $coordinator_job"* && "$out" == *"unasctl watch"* ]] ||
  fail "launch did not print the job ids and how to watch"
wait_jobs_gone 120 "$coordinator_job" "$worker_job" || fail "jobs still running after 120 s"

[[ "$(cat "$run/finished" 2>/dev/null)" == succeeded ]] ||
  fail "run/finished is '$(cat "$run/finished" 2>/dev/null)', want 'succeeded'"
[[ "$(job_field "$coordinator_job" JobState)" == COMPLETED &&
  "$(job_field "$coordinator_job" ExitCode)" == 0:0 ]] ||
  fail "coordinator job: $(job_field "$coordinator_job" JobState) $(job_field "$coordinator_job" ExitCode)"
for task in 0 1; do
  log="$run/slurm-worker-${worker_job}_$task.out"
  grep -q 'stopped after [0-9]* evaluations' "$log" 2>/dev/null ||
    fail "worker $task did not stop cleanly ($log)"
  grep -q 'done (exit 0)' "$log" 2>/dev/null || fail "worker $task exit status ($log)"
done
grep -q '\[info\] stopped' "$run/coordinator.log" || fail "the coordinator did not stop cleanly"
grep -q 'cancelling worker array' "$run/slurm-coordinator-$coordinator_job.out" ||
  fail "the coordinator job did not cancel the worker array"
grep -q '^ *[0-9]' "$run/pareto.txt" || fail "no Pareto front in $run/pareto.txt"

# The database, read through a fresh coordinator on loopback.
"$bin_dir/unas-coordinator" --db "$run/search.db" --listen 127.0.0.1:0 \
  --port-file "$tmp/check.port" >"$tmp/check.log" 2>&1 &
check_pid=$!
for ((i = 0; i < 200; i++)); do
  [[ -s "$tmp/check.port" ]] && break
  sleep 0.1
done
addr="127.0.0.1:$(cat "$tmp/check.port" 2>/dev/null)"
job=$(cat "$run/job.id")
status=$("$bin_dir/unasctl" status "$job" --coordinator "$addr" 2>&1)
echo "$status" | head -n 2
[[ "$status" == *"'slurm_test': succeeded"* && "$status" == *"40 of 40 done"* ]] ||
  fail "unexpected job status: $status"
history=$("$bin_dir/unasctl" history "$job" --csv --coordinator "$addr" 2>&1)
rows=$(tail -n +2 <<<"$history" | grep -c ',DONE,\|,done,' || true)
((rows == 40)) || fail "history has $rows done evaluations, want 40: $history"
workers=$("$bin_dir/unasctl" workers --all --coordinator "$addr" 2>&1)
for task in 0 1; do
  [[ "$workers" == *"slurm${worker_job}_$task"* ]] || fail "worker task $task never registered: $workers"
done
history_workers=$(tail -n +2 <<<"$history" | awk -F, '{print $12}' | sort -u | grep -c .)
((history_workers == 2)) || fail "evaluations came from $history_workers workers, want 2"
kill -TERM "$check_pid"
wait "$check_pid"
check_pid=""
phase1=$(date +%s.%N)
echo "search through Slurm: $(seconds_since "$start_time") s"

# ---- 2. scancel mid-way -------------------------------------------------------
# A short lease TTL: plain scancel stops the coordinator and the workers at
# once, so a lease the workers could not give back expires on resume.
spec slurm_cancel 300 3 >"$tmp/long.textproto"
run="$tmp/run2"
launch_run2=("$repo/deploy/slurm/launch" "$tmp/long.textproto" --workers 2 --cpu-only
  --synthetic --synthetic-delay-ms 50 --run-dir "$run" --bin-dir "$bin_dir" --time 5
  "${security[@]}")
if ! out=$("${launch_run2[@]}" 2>&1); then
  fail "launch: $out"
  exit 1
fi
coordinator_job=$(sed -n 's/^coordinator=//p' "$run/jobs")
worker_job=$(sed -n 's/^workers=//p' "$run/jobs")
# Cancel once both workers have reported results.
for ((i = 0; i < 600; i++)); do
  n=$(cat "$run"/slurm-worker-*.out 2>/dev/null | grep -c 'val error')
  w=$(grep -l 'val error' "$run"/slurm-worker-*.out 2>/dev/null | wc -l)
  ((w == 2 && n >= 10)) && break
  sleep 0.1
done
((w == 2)) || fail "the workers did not evaluate within 60 s"
scancel "$coordinator_job"
wait_jobs_gone 60 "$coordinator_job" "$worker_job" || fail "jobs still running 60 s after scancel"
[[ "$(cat "$run/finished" 2>/dev/null)" == stopped ]] ||
  fail "run2/finished is '$(cat "$run/finished" 2>/dev/null)', want 'stopped'"
grep -q '\[info\] stopped' "$run/coordinator.log" || fail "the coordinator did not stop cleanly on scancel"
for task in 0 1; do
  log="$run/slurm-worker-${worker_job}_$task.out"
  grep -q 'stopped after [0-9]* evaluations' "$log" 2>/dev/null ||
    fail "worker $task did not stop cleanly on scancel ($log)"
  grep -q 'done (exit 0)' "$log" 2>/dev/null || fail "worker $task exit status on scancel ($log)"
done
phase2=$(date +%s.%N)
echo "scancel mid-way: $(seconds_since "$phase1") s"

# ---- 3. resume the cancelled run ----------------------------------------------
if ! out=$("${launch_run2[@]}" 2>&1); then
  fail "resume: $out"
  exit 1
fi
[[ "$out" == *"resuming the run"* ]] || fail "launch did not resume: $out"
coordinator_job=$(sed -n 's/^coordinator=//p' "$run/jobs")
worker_job=$(sed -n 's/^workers=//p' "$run/jobs")
wait_jobs_gone 120 "$coordinator_job" "$worker_job" || fail "resumed jobs still running after 120 s"
[[ "$(cat "$run/finished" 2>/dev/null)" == succeeded ]] ||
  fail "resumed run2/finished is '$(cat "$run/finished" 2>/dev/null)', want 'succeeded'"
log="$run/slurm-coordinator-$coordinator_job.out"
grep -q "resuming job 1" "$log" || fail "the resumed coordinator job submitted a new job ($log)"
# Exactly the rounds, nothing counted twice across the two coordinator jobs.
grep -q "job 1 succeeded: 300 of 300 done" "$log" || fail "resumed job did not end with 300 of 300 ($log)"
echo "resume: $(seconds_since "$phase2") s"

((failed)) && exit 1
echo "PASSED"
exit 0
