#!/usr/bin/env bash
# Issue 10's timing: the cpu appearance-bias study (40 trainings) through the runner with 2 workers, then with 1,
# same code, each into its own fresh runs store and reports folder under $1 (default /tmp/sweep_workers), then a
# check that every result table is identical between the two (the runner's compare_reports; timing columns
# such as the per-run "train seconds" are not compared).
# Run it on a quiet machine (≈ 1.5 h on a 2-core box); results in benchmarks/sweep_workers_cpu.csv.
#   bash benchmarks/sweep_workers.sh [OUT] [WORKER COUNTS, default "2 1"]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/sweep_workers}; counts=${2:-2 1}
py=${PYTHON:-.venv/bin/python}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" SMATE_THREADS=1 OMP_WAIT_POLICY=PASSIVE
mkdir -p "$out"
echo "commit $(git rev-parse HEAD), $(nproc) cores, $(date -u '+%F %H:%M UTC')" | tee "$out/timing.txt"
for n in $counts; do
  rm -rf "$out/runs$n" "$out/reports$n"
  start=$(date +%s)
  SMATE_RUNS="$out/runs$n" "$py" -m smate_nb run --profile cpu --only appearance_bias --workers "$n" \
    --reports "$out/reports$n" --no-html > "$out/run$n.log" 2>&1
  sweep=$(grep -ao 'appearance_bias: 40 of 40 runs done in [0-9]* s' "$out/reports$n/cpu/executed/"*.ipynb | grep -o '[0-9]* s$' || true)
  echo "workers=$n notebook_wall_s=$(( $(date +%s) - start )) sweep=${sweep:-?}" | tee -a "$out/timing.txt"
done
set -- $counts
if [ $# -ge 2 ]; then
  "$py" - "$out/reports$1/cpu" "$out/reports$2/cpu" <<'PY'
import sys
from smate_nb.suite import compare_reports   # the runner's table comparison (timing columns left out)
for t in compare_reports(*sys.argv[1:3]):
    print(t.verdict, t.name)
PY
fi
