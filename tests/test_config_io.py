"""Profiles are defined once and frozen; atomic writes never leave partial files."""
import dataclasses
import os

import pytest
import torch

from smate_nb.config import PROFILES, configure_threads, get_profile
from smate_nb.files import atomic_path, write_json
from smate_nb.model import VIVIT_CONFIGS, build_vivit


def test_profiles_are_frozen_and_buildable():
    assert set(PROFILES) == {"smoke", "cpu", "paper", "gpu"}
    p = get_profile("cpu")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.model = "x"
    for prof in PROFILES.values():
        assert prof.model.arch in VIVIT_CONFIGS
        assert prof.clip.crop <= prof.clip.resize
    paper = get_profile("paper")
    assert (paper.model.arch, paper.clip.num_frames, paper.clip.crop, paper.clip.resize) == ("vivit_b_16x2_fe", 25, 224, 256)
    assert (paper.clip.stride_lab, paper.clip.stride_wild) == (2, 3)
    with pytest.raises(KeyError, match="smoke"):
        get_profile("laptop")


@pytest.mark.parametrize("name", ["smoke", "cpu"])
def test_profile_model_runs_on_profile_geometry(name):
    p = get_profile(name)
    m = build_vivit(p.model.arch, num_frames=p.clip.num_frames, image_size=p.clip.crop, num_classes=7).eval()
    with torch.no_grad():
        assert m(torch.rand(1, p.clip.num_frames, 3, p.clip.crop, p.clip.crop)).shape == (1, 7)


def test_configure_threads(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("SMATE_THREADS", "1")
        assert configure_threads(2) == 1
        assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    finally:
        torch.set_num_threads(before)


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    dest = tmp_path / "out.json"
    write_json(dest, {"b": 1, "a": [1, 2]})
    assert dest.read_text().startswith('{\n  "a"')
    with pytest.raises(RuntimeError):
        with atomic_path(dest) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash mid-write")
    assert dest.read_text().startswith('{\n  "a"')           # old content intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_writes_respect_the_umask(tmp_path, umask, mode):
    # mkstemp creates 0o600 files; an atomic write must give what open() gives: 0o666 & ~umask
    old = os.umask(umask)
    try:
        write_json(tmp_path / "report.json", {"a": 1})
        with atomic_path(tmp_path / "figure.png") as tmp:
            tmp.write_bytes(b"png")
        with atomic_path(tmp_path / "plain.txt") as tmp:
            pass                                              # the caller may write nothing at all
        with open(tmp_path / "reference.txt", "w") as f:
            f.write("x")
    finally:
        os.umask(old)
    for name in ("report.json", "figure.png", "plain.txt", "reference.txt"):
        assert (tmp_path / name).stat().st_mode & 0o777 == mode, name
