#!/usr/bin/env bash
# benchmarks/gpu_session.sh — every GPU check of the project in one device call (≤ 8 min on one H100/H200).
#
#   1. the CUDA-only tests (LBP and augmentation: GPU result == CPU result), skipped on CPU-only machines;
#   2. benchmarks/gpu_engine_check.py — fit() on the GPU: bf16 autocast, on-device augmentation + LBP + Eq. 7
#      mixing, checkpoints, stored-result reuse, interrupt + resume;
#   3. benchmarks/gpu_check.sh — notebook 07_cost_by_crop (Table 5) in the paper profile (batch 32);
#   4. the same notebook at 224² only with a second batch size (SMATE_SESSION_BATCH2, default 64; empty skips it):
#      timing + fast-path ablation, to see how MFU moves with batch. Its tables are appended to $OUT/table5.md;
#   5. benchmarks/gpu_tables_subset.py — Tables 2 and 4 at the paper's geometry in the `gpu` profile (lab fold 0,
#      one seed, every row; stand-in pretraining then fine-tunes; SMATE_SESSION_TABLES_PROFILE, default gpu), with
#      a short budget (SMATE_SESSION_TABLES_EPOCHS, default 3; SMATE_SESSION_PRETRAIN_EPOCHS, default 6) so the
#      session stays ≤ 8 min; per-row wall time and accuracy appended to $OUT/table5.md, its JSON to gpu_check.log;
#   6. benchmarks/gpu_step_speed.py — the step-speed candidates (q/k/v split, bf16 residual stream, fused add +
#      LayerNorm, max-autotune) against the current step, with the keep/drop rule, in what is left of the session's
#      budget (SMATE_SESSION_BUDGET_S, default 480 s; rows that do not fit are reported "skipped: budget"; extra
#      arguments in SMATE_SESSION_STEP_SPEED_ARGS). Its table is appended to $OUT/table5.md, its JSON to gpu_check.log.
#      Every row, max-autotune included, in a call of its own (≈ 5–7 min on an H200, unmeasured):
#          run(command="python3 benchmarks/gpu_step_speed.py --out $OUT --budget-s 500", timeout_s=560)
#
# On this workplace's device machine (nothing to carry):
#     run(command="bash benchmarks/gpu_session.sh", timeout_s=560)      # ≈ 5 min on an H200
# Files back in $OUT: the eight of gpu_check.sh; the logs of steps 1–2 (and the engine check's JSON) are appended
# to $OUT/gpu_check.log, because the device tool returns at most eight files.
# Exit status: 0 only if every step passed.
set -uo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export OUT="${OUT:-$REPO/gpu_check_out}" PYTHONUNBUFFERED=1 OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
PYTHON="${PYTHON:-python3}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/smate_gpu_session.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
# Generated data, caches and runs stay out of the repository copy.
export SMATE_DATA="$TMP/data" SMATE_CACHE="$TMP/cache" SMATE_RUNS="$TMP/runs"
mkdir -p "$OUT"

echo "== 1. CUDA tests ($(date -u +%T))" | tee "$TMP/extra.log"
( cd "$REPO" && timeout 120 "$PYTHON" -m pytest -q -p no:cacheprovider tests/test_lbp.py tests/test_augment.py \
    -k "gpu" ) 2>&1 | tee -a "$TMP/extra.log"
S1=${PIPESTATUS[0]}

echo "== 2. engine check ($(date -u +%T))" | tee -a "$TMP/extra.log"
timeout 150 "$PYTHON" "$REPO/benchmarks/gpu_engine_check.py" "$TMP/engine_check.json" 2>&1 | tee -a "$TMP/extra.log"
S2=${PIPESTATUS[0]}

echo "== 3. Table 5 notebook ($(date -u +%T))"
SMATE_CHECK_TIMEOUT="${SMATE_CHECK_TIMEOUT:-400}" bash "$REPO/benchmarks/gpu_check.sh"
S3=$?

S4=0
if [[ -n "${SMATE_SESSION_BATCH2-64}" ]]; then
  B2="${SMATE_SESSION_BATCH2-64}"
  echo "== 4. Table 5 notebook at 224², batch $B2 ($(date -u +%T))"
  OUT="$TMP/batch2" SMATE_CHECK_TIMEOUT=300 SMATE_CHECK_PARAMS="batch_size=$B2 crops=[224] profile_ops=False pipeline_check=False ${SMATE_CHECK_PARAMS:-}" \
    bash "$REPO/benchmarks/gpu_check.sh" 2>&1 | tee "$TMP/batch2.log" | grep -v "^\[plain runner\]"
  S4=${PIPESTATUS[0]}
  { echo; echo "# Second pass: batch $B2 at 224² (gpu_session.sh step 4)"; echo
    sed '1d' "$TMP/batch2/table5.md" 2>/dev/null || echo "(no tables: status $S4)"; } >>"$OUT/table5.md"
  cat "$TMP/batch2.log" >>"$TMP/extra.log"
fi

echo "== 5. Tables 2 and 4 subset ($(date -u +%T))" | tee -a "$TMP/extra.log"
timeout 240 "$PYTHON" "$REPO/benchmarks/gpu_tables_subset.py" --profile "${SMATE_SESSION_TABLES_PROFILE:-gpu}" \
    --epochs "${SMATE_SESSION_TABLES_EPOCHS:-3}" --pretrain-epochs "${SMATE_SESSION_PRETRAIN_EPOCHS:-6}" \
    --out "$TMP/subset" 2>&1 | tee -a "$TMP/extra.log" | tail -14
S5=${PIPESTATUS[0]}
{ echo; sed 's/^# /# Step 5: /' "$TMP/subset/tables_subset.md" 2>/dev/null || echo "(no subset table: status $S5)"; } >>"$OUT/table5.md"

BUDGET="${SMATE_SESSION_BUDGET_S:-480}"
if [[ ! "$BUDGET" =~ ^[0-9]+$ ]]; then
  echo "SMATE_SESSION_BUDGET_S=$BUDGET is not a whole number of seconds; using 480" | tee -a "$TMP/extra.log"
  BUDGET=480
fi
LEFT=$(( BUDGET - SECONDS - 15 ))
echo "== 6. step-speed candidates, ${LEFT} s left of the session budget ($(date -u +%T))" | tee -a "$TMP/extra.log"
S6=0
if (( LEFT >= 30 )); then
  # shellcheck disable=SC2086  # the extra arguments are meant to split
  timeout $(( LEFT + 60 )) "$PYTHON" "$REPO/benchmarks/gpu_step_speed.py" --out "$TMP/step_speed" --budget-s "$LEFT" \
      ${SMATE_SESSION_STEP_SPEED_ARGS:-} 2>&1 | tee -a "$TMP/extra.log" | grep -E "^(==|   )"
  S6=${PIPESTATUS[0]}
  { echo; sed 's/^# /# Step 6: /' "$TMP/step_speed/step_speed.md" 2>/dev/null || echo "(no step-speed table: status $S6)"; } >>"$OUT/table5.md"
else
  echo "step 6 skipped: the session budget is spent (${LEFT} s left); run benchmarks/gpu_step_speed.py in a call of its own" \
    | tee -a "$TMP/extra.log" >>"$OUT/table5.md"
fi

{ echo; echo "######## gpu_session.sh: steps 1, 2, 4, 5 and 6"; cat "$TMP/extra.log"
  echo "== engine_check.json"; cat "$TMP/engine_check.json" 2>/dev/null || echo "(not written)"
  echo "== tables_subset.json"; cat "$TMP/subset/tables_subset.json" 2>/dev/null || echo "(not written)"
  echo "== step_speed.json"; cat "$TMP/step_speed/step_speed.json" 2>/dev/null || echo "(not written)"
  echo "== status: cuda tests $S1, engine check $S2, table 5 notebook $S3, second batch $S4, tables subset $S5, step speed $S6"; } >>"$OUT/gpu_check.log"
echo "gpu_session: cuda tests $S1, engine check $S2, table 5 notebook $S3, second batch $S4, tables subset $S5, step speed $S6"
[[ $S1 == 0 && $S2 == 0 && $S3 == 0 && $S4 == 0 && $S5 == 0 && $S6 == 0 ]]
