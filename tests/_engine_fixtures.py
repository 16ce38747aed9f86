"""Hand-made, learnable clip datasets for engine tests (no generator, no files)."""
import numpy as np
import torch
from torch.utils.data import Dataset

from smate_nb.train import DataSpec, ExperimentConfig, ModelSpec, OptimSpec, PreprocSpec


class SquareClips(Dataset):
    """Class k = a bright square moving along row band k; uint8 [T, H, W, 3] like stored clips."""

    def __init__(self, n: int, classes: int = 3, frames: int = 8, size: int = 36, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.items = []
        band = size // classes
        for i in range(n):
            k = i % classes
            clip = rng.integers(0, 60, size=(frames, size, size, 3), dtype=np.uint8)
            for t in range(frames):
                x = (t * 3 + rng.integers(0, 4)) % (size - 8)
                clip[t, k * band: k * band + 8, x: x + 8] = 230
            self.items.append((torch.from_numpy(clip), k))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def tiny_data():
    return SquareClips(24, seed=0), SquareClips(12, seed=1), ("a", "b", "c")


def tiny_config(**sections) -> ExperimentConfig:
    cfg = ExperimentConfig(
        data=DataSpec(dataset="custom:squares", num_frames=8, resize=36, crop=32),
        model=ModelSpec(arch="vivit_smoke_fe", temporal_position="tpe_v2"),
        preproc=PreprocSpec(),
        optim=OptimSpec(epochs=3, batch_size=8, lr=2e-3, warmup_epochs=0.5, eval_batch_size=12),
        seed=0, device="cpu")
    return cfg.replace(**sections) if sections else cfg
