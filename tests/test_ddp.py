"""DistributedDataParallel through torchrun on the gloo backend: two CPU ranks must agree."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("amp", ["auto", "bf16-stream"])
def test_two_gloo_ranks_agree(tmp_path, amp):
    worker = Path(__file__).parent / "_ddp_worker.py"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE", "SMATE_DDP_AMP": amp}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", str(_free_port()), str(worker), str(tmp_path)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r0, r1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    assert r0["world"] == r1["world"] == 2
    assert r0["precision"] == r1["precision"] == ("bf16-stream" if amp == "bf16-stream" else "fp32")
    assert r0["weights"] == r1["weights"]                    # gradients all-reduced: identical parameters
    assert r0["y_pred"] == r1["y_pred"] and r0["war"] == r1["war"]
    assert sorted(r0["y_true"]) == sorted([0, 1, 2] * 4)     # every test clip scored exactly once
    written = list((tmp_path / "runs").glob("*/result.json"))
    assert len(written) == 1                                 # rank 0 alone writes
