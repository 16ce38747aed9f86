"""One vector instruction set for every x86-64 CPU (smate_nb.config.CPU_ISA_ENV): set for the suite's kernels,
obeyed by torch in a process started with it, recorded with every run."""
import json
import os
import platform
import subprocess
import sys

import pytest

from smate_nb import suite
from smate_nb.config import CPU_ISA_ENV, cpu_isa_env
from smate_nb.engine.loop import fit
from tests._engine_fixtures import tiny_config, tiny_data

X86 = platform.machine().lower() in ("x86_64", "amd64")


def test_the_pins_apply_on_x86_only_and_never_override_the_user():
    assert cpu_isa_env({}, "x86_64") == {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
    assert cpu_isa_env({}, "AMD64") == CPU_ISA_ENV
    assert cpu_isa_env({"ATEN_CPU_CAPABILITY": "avx512"}, "x86_64") == {"ONEDNN_MAX_CPU_ISA": "AVX2"}
    assert cpu_isa_env(dict(CPU_ISA_ENV), "x86_64") == {}
    assert cpu_isa_env({}, "aarch64") == {} and cpu_isa_env({}, "arm64") == {}


def test_the_suite_starts_its_kernels_with_the_pins(monkeypatch, tmp_path):
    for k in CPU_ISA_ENV:
        monkeypatch.delenv(k, raising=False)
    env = suite._kernel_env(tmp_path, 2)
    for k, v in CPU_ISA_ENV.items():
        assert (env.get(k) == v) == X86
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "default")       # the user's choice wins
    assert suite._kernel_env(tmp_path, 2)["ATEN_CPU_CAPABILITY"] == "default"


@pytest.mark.skipif(not X86, reason="the pins are x86-64 only")
def test_a_process_started_with_the_pins_runs_torch_on_avx2_at_most():
    code = "import torch; print(torch.backends.cpu.get_cpu_capability())"
    env = {k: v for k, v in os.environ.items() if k not in CPU_ISA_ENV}
    pinned = subprocess.run([sys.executable, "-c", code], env={**env, **cpu_isa_env(env)}, capture_output=True,
                            text=True, check=True)
    assert pinned.stdout.strip() in ("AVX2", "DEFAULT")       # DEFAULT: a CPU without AVX2; never AVX512


def test_every_run_records_the_instruction_set_it_trained_with(tmp_path):
    import torch

    res = fit(tiny_config(optim={"epochs": 1}), data=tiny_data(), root=tmp_path, progress=False)
    assert res["cpu_isa"] == torch.backends.cpu.get_cpu_capability()
    stored = json.loads(next(tmp_path.rglob("result.json")).read_text())
    assert stored["cpu_isa"] == res["cpu_isa"]
