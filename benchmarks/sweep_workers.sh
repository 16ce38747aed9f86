#!/usr/bin/env bash
# Issue 10's timing: the cpu appearance-bias study (40 trainings) through the runner with 2 workers, then with 1,
# same code, each into its own fresh runs store and reports folder under $1 (default /tmp/sweep_workers), then a
# check that every result table is identical between the two (only the per-run "train seconds" may differ).
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
  "$py" - "$out/reports$1/cpu/tables" "$out/reports$2/cpu/tables" <<'PY'
import sys
from pathlib import Path
import pandas as pd
a, b = map(Path, sys.argv[1:3])
for f in sorted(a.glob("*.csv")):
    x, y = pd.read_csv(f), pd.read_csv(b / f.name)
    cols = [c for c in x.columns if c != "train seconds"]
    print(("identical" if x[cols].equals(y[cols]) else "DIFFERENT"), f.name)
PY
fi
