"""Run by tests/test_ddp.py under torchrun: one tiny fit per rank, each rank reports what it ended with."""
import json
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _engine_fixtures import tiny_config, tiny_data  # noqa: E402

from smate_nb.train import fit  # noqa: E402

torch.set_num_threads(1)
out = Path(sys.argv[1])
final = {}
# SMATE_DDP_DEVICE=cuda: the same run on GPUs (NCCL), as benchmarks/gpu_engine_check.py does.
# SMATE_DDP_AMP=bf16-stream: DDP around the Bf16Stream wrapper (fp32 master weights, bf16 compute).
cfg = tiny_config(device=os.environ.get("SMATE_DDP_DEVICE", "cpu"), optim={"amp": os.environ.get("SMATE_DDP_AMP", "auto")})
result = fit(cfg, data=tiny_data(), root=out / "runs", progress=False,
             on_epoch_end=lambda e, m: final.update(weights=float(sum(p.double().sum() for p in m.parameters()))))
rank = int(os.environ["RANK"])
(out / f"rank{rank}.json").write_text(json.dumps({
    "world": result["world_size"], "weights": final["weights"], "y_pred": result["predictions"]["y_pred"],
    "y_true": result["predictions"]["y_true"], "war": result["metrics"]["war"],
    "precision": result["step"]["precision"]}))
if torch.distributed.is_initialized():     # world size 1 runs fit()'s single-process path
    torch.distributed.destroy_process_group()
