"""Test-wide settings: one torch thread (a busy 2-core CI box runs 10–20× slower with two)."""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

torch.set_num_threads(int(os.environ.get("SMATE_THREADS", "1")))
