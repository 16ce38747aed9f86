#!/usr/bin/env bash
# benchmarks/gpu_check.sh — paper Table 5 on a GPU, in one short run.
#
# Runs notebooks/07_cost_by_crop.ipynb in the `paper` profile (ViViT-B/16x2 FE, 16 frames, crops 64/128/224/320,
# batch 32, bf16 autocast, fused AdamW; step profile; data pipeline vs model step; fast-path ablation at 224²) and
# writes the tables and one JSON to $OUT. Budget: well under 8 minutes on one H100/H200 (a few hundred training
# steps plus one torch.compile); no network, no installs.
#
# ── On this workplace's device machine (the `run` tool) ────────────────────────────────────────────────────────
#     run(command="bash benchmarks/gpu_check.sh", timeout_s=600)              # nothing to carry
#   The machine's system `python3` (3.12) already has torch (CUDA), numpy, pandas, matplotlib, tabulate, einops,
#   opencv and psutil — everything the notebook imports. It has no papermill / ipykernel, so the script then runs
#   the notebook's code cells in order in one Python process (the `plain` runner below: same parameters injected
#   after the `parameters` cell, same Report outputs, an executed copy with the cells' text outputs). Do NOT carry
#   `.venv`: it is over the 64 MiB limit, holds a CPU-only torch, and is built for another Python.
#   To use papermill there instead, carry its wheels (see /work/.library/device/README.md) and set
#   SMATE_CHECK_RUNNER=papermill.
#   The files come back from $OUT (8 files, flat): commit them under reports/gpu/ with the GPU's name, e.g.
#     mkdir -p reports/gpu/h100 && cp <files_at>/* reports/gpu/h100/
#
# ── Anywhere else ──────────────────────────────────────────────────────────────────────────────────────────────
#     OUT=/tmp/gpu_check bash benchmarks/gpu_check.sh
#   A tiny CPU run for testing (what tests/test_gpu_check.py does):
#     OUT=/tmp/gc SMATE_CHECK_PROFILE=smoke SMATE_CHECK_DEVICE=cpu SMATE_CHECK_PARAMS="crops=[64,128]" \
#       bash benchmarks/gpu_check.sh
#
# Environment:
#   OUT                  output folder (default ./gpu_check_out); created; existing files of the same names replaced
#   PYTHON               interpreter (default: .venv/bin/python if it imports torch, else python3)
#   SMATE_CHECK_PROFILE  notebook profile (default paper)
#   SMATE_CHECK_DEVICE   notebook `device` parameter (default auto; the paper profile warns without a GPU)
#   SMATE_CHECK_PARAMS   more notebook parameters, space-separated KEY=VALUE with Python literals (no spaces inside a value),
#                        e.g. "batch_size=16 compile_model=True ablation=False"
#   SMATE_CHECK_RUNNER   auto | papermill | plain (default auto: papermill when papermill and ipykernel import)
#   SMATE_CHECK_TIMEOUT  seconds allowed for the notebook (default 450)
#
# Files written to $OUT:
#   table5.md              every table of the run (Markdown, with captions) under a header naming device and command
#   table5.json            device, parameters, runner, wall time, and every table's rows + metadata
#   table5_throughput.csv  the main throughput table
#   cost_vs_crop.png       MACs and throughput against crop size
#   07_cost_by_crop.ipynb  the executed notebook
#   reports.tar.gz         the whole reports/<profile>/ tree of the run
#   gpu_check.log          the run's log
#   device.txt             nvidia-smi (or CPU) description
# Exit status: 0 when the notebook ran to the end, else the runner's status (files are still collected).
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$REPO/gpu_check_out}"
PROFILE="${SMATE_CHECK_PROFILE:-paper}"
DEVICE="${SMATE_CHECK_DEVICE:-auto}"
PARAMS="${SMATE_CHECK_PARAMS:-}"
RUNNER="${SMATE_CHECK_RUNNER:-auto}"
TIMEOUT="${SMATE_CHECK_TIMEOUT:-450}"
NB_NAME="07_cost_by_crop"
NB="$REPO/notebooks/$NB_NAME.ipynb"

if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$REPO/.venv/bin/python" ]] && "$REPO/.venv/bin/python" -c "import torch" 2>/dev/null; then
    PYTHON="$REPO/.venv/bin/python"
  else
    PYTHON="python3"
  fi
fi
mkdir -p "$OUT"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/smate_gpu_check.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
REPORTS="$WORK/reports"
LOG="$OUT/gpu_check.log"
: >"$LOG"
log() { echo "[gpu_check $(date -u +%H:%M:%S)] $*" | tee -a "$LOG" >&2; }

export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 MPLBACKEND=Agg
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"


if [[ "$RUNNER" == auto ]]; then
  if "$PYTHON" -c "import papermill, ipykernel" 2>/dev/null; then RUNNER=papermill; else RUNNER=plain; fi
fi
log "repo $REPO | python $("$PYTHON" -c 'import sys; print(sys.executable, sys.version.split()[0])') | runner $RUNNER"
log "profile $PROFILE | device $DEVICE | params: ${PARAMS:-(none)} | timeout ${TIMEOUT}s"

# Notebook parameters as a JSON object (profile and reports_root are injected by the runners themselves).
PARAMS_JSON="$("$PYTHON" - "$DEVICE" $PARAMS <<'PY'
import ast, json, sys
params = {"device": sys.argv[1]}
for kv in sys.argv[2:]:
    k, _, v = kv.partition("=")
    if not k or not _:
        sys.exit(f"SMATE_CHECK_PARAMS: expected KEY=VALUE, got {kv!r}")
    try:
        params[k] = ast.literal_eval(v)
    except (ValueError, SyntaxError):
        params[k] = v
print(json.dumps(params))
PY
)" || { log "bad SMATE_CHECK_PARAMS"; exit 2; }
case "$RUNNER" in papermill|plain) ;; *) log "unknown SMATE_CHECK_RUNNER=$RUNNER (auto | papermill | plain)"; exit 2;; esac

"$PYTHON" -c "import json, sys; from smate_nb.throughput import describe_device; \
print(json.dumps(describe_device(sys.argv[1]), indent=2))" "$DEVICE" >"$WORK/device.json" 2>>"$LOG" \
  || echo '{}' >"$WORK/device.json"
{
  if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi 2>&1; else echo "no nvidia-smi"; fi
  echo; cat "$WORK/device.json"
} >"$OUT/device.txt"

T0=$(date +%s)
STATUS=0
EXECUTED="$REPORTS/$PROFILE/executed/$NB_NAME.ipynb"
if [[ "$RUNNER" == papermill ]]; then
  ARGS=()
  while IFS= read -r kv; do ARGS+=(--param "$kv"); done < <("$PYTHON" -c "
import json, sys
for k, v in json.loads(sys.argv[1]).items(): print(f'{k}={v!r}')" "$PARAMS_JSON")
  ( cd "$REPO" && timeout "$TIMEOUT" "$PYTHON" -m smate_nb run --profile "$PROFILE" --only "$NB_NAME" \
      --reports "$REPORTS" --force "${ARGS[@]}" ) 2>&1 | tee -a "$LOG"
  STATUS=${PIPESTATUS[0]}
elif [[ "$RUNNER" == plain ]]; then
  mkdir -p "$(dirname "$EXECUTED")"
  ( cd "$REPO/notebooks" && timeout "$TIMEOUT" "$PYTHON" - "$NB" "$EXECUTED" "$PROFILE" "$REPORTS" "$PARAMS_JSON" <<'PY'
# Plain notebook runner: the code cells in order, in one namespace, parameters injected after the
# `parameters` cell (as papermill does); text outputs and errors are written into an executed copy.
import ast, contextlib, io, json, sys, time, traceback

src_path, out_path, profile, reports_root, params = sys.argv[1:6]
params = {"profile": profile, "reports_root": reports_root, **json.loads(params)}
nb = json.load(open(src_path))


class Tee(io.TextIOBase):
    def __init__(self, *streams):
        self.streams = streams

    def write(self, s):
        for st in self.streams:
            st.write(s)
        return len(s)

    def flush(self):
        for st in self.streams:
            st.flush()


def text_of(value):
    try:
        import pandas as pd
        if isinstance(value, pd.DataFrame):
            with pd.option_context("display.width", 250, "display.max_columns", 50):
                return value.to_string()
    except ImportError:
        pass
    return repr(value)


cells, count, failed = [], 0, None
ns = {"__name__": "__main__", "display": lambda *xs: [print(text_of(x)) for x in xs]}
for cell in nb["cells"]:
    cells.append(cell)
    if cell["cell_type"] != "code" or failed is not None:
        continue
    code_src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    tags = cell.get("metadata", {}).get("tags", [])
    todo = [(cell, code_src)]
    if "parameters" in tags:
        inj_src = "# Parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in params.items())
        inj = {"cell_type": "code", "id": "injected-parameters", "metadata": {"tags": ["injected-parameters"]},
               "source": inj_src,
               "outputs": [], "execution_count": None}
        cells.append(inj)
        todo.append((inj, inj_src))
    for c, s in todo:
        count += 1
        c["execution_count"], c["outputs"] = count, []
        buf = io.StringIO()
        t0 = time.perf_counter()
        try:
            tree = ast.parse(s)
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            with contextlib.redirect_stdout(Tee(sys.stdout, buf)):
                exec(compile(tree, f"<cell {count}>", "exec"), ns)
                value = eval(compile(ast.Expression(last.value), f"<cell {count}>", "eval"), ns) if last else None
            if buf.getvalue():
                c["outputs"].append({"output_type": "stream", "name": "stdout", "text": buf.getvalue()})
            if value is not None:
                data = {"text/plain": text_of(value)}
                if hasattr(value, "_repr_html_"):
                    with contextlib.suppress(Exception):
                        data["text/html"] = value._repr_html_()
                c["outputs"].append({"output_type": "execute_result", "execution_count": count, "data": data,
                                     "metadata": {}})
        except BaseException as err:  # noqa: BLE001 — record and stop, like papermill
            if buf.getvalue():
                c["outputs"].append({"output_type": "stream", "name": "stdout", "text": buf.getvalue()})
            tb = traceback.format_exc()
            c["outputs"].append({"output_type": "error", "ename": type(err).__name__, "evalue": str(err),
                                 "traceback": tb.splitlines()})
            print(tb, file=sys.stderr)
            failed = count
            break
        print(f"[plain runner] cell {count} done in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
nb["cells"] = cells
nb.setdefault("metadata", {})["smate_plain_runner"] = {"parameters": params, "failed_cell": failed}
with open(out_path + ".tmp", "w") as fh:
    json.dump(nb, fh, indent=1, ensure_ascii=False)
import os
os.replace(out_path + ".tmp", out_path)
sys.exit(1 if failed is not None else 0)
PY
  ) 2>&1 | tee -a "$LOG"
  STATUS=${PIPESTATUS[0]}
else
  log "unknown SMATE_CHECK_RUNNER=$RUNNER (auto | papermill | plain)"; exit 2
fi
WALL=$(( $(date +%s) - T0 ))
[[ "$STATUS" == 124 ]] && log "the notebook ran past ${TIMEOUT}s and was stopped"
log "notebook finished with status $STATUS after ${WALL}s"

# Collect: flat files in $OUT (the device tool brings back at most 8 files, two folders deep).
TABLES="$REPORTS/$PROFILE/tables"
PREFIX="${NB_NAME}__"
[[ -f "$EXECUTED" ]] && cp "$EXECUTED" "$OUT/$NB_NAME.ipynb"
[[ -f "$REPORTS/$PROFILE/figures/${PREFIX}cost_vs_crop.png" ]] && cp "$REPORTS/$PROFILE/figures/${PREFIX}cost_vs_crop.png" "$OUT/cost_vs_crop.png"
[[ -f "$TABLES/${PREFIX}table5_throughput.csv" ]] && cp "$TABLES/${PREFIX}table5_throughput.csv" "$OUT/table5_throughput.csv"
[[ -d "$REPORTS/$PROFILE" ]] && tar -czf "$OUT/reports.tar.gz" -C "$REPORTS" "$PROFILE"
"$PYTHON" - "$TABLES" "$OUT" "$PREFIX" "$PROFILE" "$RUNNER" "$STATUS" "$WALL" "$PARAMS_JSON" "$WORK/device.json" <<'PY' 2>&1 | tee -a "$LOG"
import csv, json, os, sys, time
from pathlib import Path

tables, out, prefix, profile, runner, status, wall, params, device_json = sys.argv[1:10]
tables, out = Path(tables), Path(out)
md = [f"# Table 5 check — profile `{profile}`", "",
      f"Generated {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `benchmarks/gpu_check.sh` "
      f"(runner {runner}, notebook status {status}, {wall} s). Parameters: `{params}`.", ""]
try:
    device = json.loads(Path(device_json).read_text()) or None
except (OSError, ValueError):
    device = None
if device:
    md += [f"Device: **{device.get('name')}** ({device.get('device')}), torch {device.get('torch')}"
           + (f", CUDA {device.get('cuda')}, {device.get('memory_gib')} GiB" if device.get("cuda") else "")
           + f", {device.get('torch_threads')} torch threads.", ""]
doc = {"profile": profile, "runner": runner, "notebook_status": int(status), "wall_s": int(wall),
       "parameters": json.loads(params), "device": device, "tables": {}}
for md_path in sorted(tables.glob(f"{prefix}*.md")) if tables.is_dir() else []:
    name = md_path.stem[len(prefix):]
    md += [f"## {name}", "", md_path.read_text().strip(), ""]
    entry = {}
    csv_path = md_path.with_suffix(".csv")
    if csv_path.exists():
        with open(csv_path, newline="") as fh:
            entry["rows"] = list(csv.DictReader(fh))
    meta_path = md_path.with_suffix(".json")
    if meta_path.exists():
        entry["meta"] = json.loads(meta_path.read_text())
    doc["tables"][name] = entry
(out / "table5.md").write_text("\n".join(md) + "\n")
(out / "table5.json").write_text(json.dumps(doc, indent=1, default=str) + "\n")
print(f"wrote {out / 'table5.md'} and {out / 'table5.json'} ({len(doc['tables'])} tables)")
PY
log "outputs in $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
exit "$STATUS"
