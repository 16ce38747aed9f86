"""Sweeps (issue 10): process pool and Dask give a one-worker run's results, a config requested twice trains
once, a killed worker's run resumes with nothing lost, a failing config is reported while the others finish."""
import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

from smate_nb.engine.specs import DataSpec, ExperimentConfig, ModelSpec, OptimSpec
from smate_nb.engine.sweeps import JobExecutor, SweepError, default_workers, sweep

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def tiny_synthfer(tmp_path_factory, monkeypatch):
    """A three-person SynthFER-lab dataset (generated once per session), seen by workers through the env."""
    base = tmp_path_factory.getbasetemp() / "sweep-data"
    monkeypatch.setenv("SMATE_DATA", str(base / "data"))
    monkeypatch.setenv("SMATE_CACHE", str(base / "cache"))
    monkeypatch.setenv("SMATE_THREADS", "1")
    return base


def _cfg(fold=0, seed=0, epochs=2, **data):
    return ExperimentConfig(
        data=DataSpec(dataset="synthfer-lab", test_fold=fold, folds=3, num_frames=4, resize=36, crop=32, subjects=3,
                      image_size=40, data_seed=5, **data),
        model=ModelSpec(arch="vivit_smoke_fe", temporal_position="tpe_v2"),
        optim=OptimSpec(epochs=epochs, batch_size=4, lr=2e-3, warmup_epochs=0.0), seed=seed, device="cpu")


def _same(a, b):
    assert a["key"] == b["key"]
    assert [h["train_loss"] for h in a["history"]] == [h["train_loss"] for h in b["history"]]
    assert a["predictions"] == b["predictions"] and a["metrics"] == b["metrics"]


def test_process_pool_equals_one_worker_and_keeps_order(tiny_synthfer, tmp_path):
    configs = [_cfg(fold=f, seed=s) for f, s in [(0, 0), (1, 0), (0, 1)]]
    one = sweep(configs, workers=1, root=tmp_path / "one", progress=False)
    two = sweep(configs, workers=2, root=tmp_path / "two", progress=False)
    for c, a, b in zip(configs, one, two):
        assert a["key"] == c.key()
        _same(a, b)
    assert all(r["reused"] is False for r in one + two)
    again = sweep(configs, workers=2, root=tmp_path / "two", progress=False)      # stored: nothing retrained
    assert all(r["reused"] for r in again)


def test_dask_local_cluster_equals_one_worker(tiny_synthfer, tmp_path):
    distributed = pytest.importorskip("distributed")
    configs = [_cfg(fold=f) for f in (0, 1)]
    one = sweep(configs, workers=1, root=tmp_path / "one", progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        dask = sweep(configs, executor=client.get_executor(), root=tmp_path / "dask", progress=False)
    for a, b in zip(one, dask):
        _same(a, b)


def test_submitit_local_executor_through_the_job_adapter(tiny_synthfer, tmp_path):
    submitit = pytest.importorskip("submitit")
    ex = submitit.LocalExecutor(folder=str(tmp_path / "jobs"))
    ex.update_parameters(timeout_min=10)
    (res,) = sweep([_cfg()], executor=JobExecutor(ex), root=tmp_path / "sub", progress=False)
    (ref,) = sweep([_cfg()], workers=1, root=tmp_path / "ref", progress=False)
    _same(res, ref)


def test_duplicates_in_a_sweep_train_once(tiny_synthfer, tmp_path):
    a, b = sweep([_cfg(), _cfg(fold=1), _cfg()], workers=1, root=tmp_path, progress=False)[::2]
    assert a is b and a["reused"] is False
    assert len([p for p in tmp_path.iterdir() if (p / "result.json").exists()]) == 2


_FIT = textwrap.dedent("""
    import json, os, signal, sys
    sys.path.insert(0, {repo!r})
    from smate_nb.engine.specs import ExperimentConfig, DataSpec, ModelSpec, OptimSpec
    from smate_nb.engine.loop import fit
    tup = lambda d: {{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}}
    cfg = ExperimentConfig(data=DataSpec(**tup(json.loads(sys.argv[1]))), model=ModelSpec(**tup(json.loads(sys.argv[2]))),
                           optim=OptimSpec(**json.loads(sys.argv[3])), seed=0, device="cpu")
    kill_after = int(sys.argv[5])
    def hook(epoch, model):
        if epoch == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)          # a worker killed mid-run: no cleanup at all
    r = fit(cfg, root=sys.argv[4], progress=False, on_epoch_end=hook if kill_after >= 0 else None)
    print(json.dumps({{"reused": r["reused"], "key": r["key"]}}))
""")


def _launch(tmp_path, cfg, root, kill_after=-1):
    script = tmp_path / "fit_one.py"
    script.write_text(_FIT.format(repo=str(REPO)))
    d = cfg.to_dict()
    args = [json.dumps(d["data"]), json.dumps(d["model"]), json.dumps(d["optim"]), str(root), str(kill_after)]
    return subprocess.Popen([sys.executable, str(script), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(REPO)})


def test_two_concurrent_requests_train_once(tiny_synthfer, tmp_path):
    cfg = _cfg(epochs=4)
    sweep([_cfg(epochs=1)], workers=1, root=tmp_path / "warm", progress=False)   # data generated before the race
    procs = [_launch(tmp_path, cfg, tmp_path / "runs") for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    flags = sorted(json.loads(o[0].strip().splitlines()[-1])["reused"] for o in outs)
    assert flags == [False, True]                                   # one trained, the other waited and read it
    assert not (tmp_path / "runs" / cfg.key() / "claim.json").exists()


def test_killed_worker_resumes_with_nothing_lost(tiny_synthfer, tmp_path):
    cfg = _cfg(epochs=3)
    (ref,) = sweep([cfg], workers=1, root=tmp_path / "ref", progress=False)
    p = _launch(tmp_path, cfg, tmp_path / "runs", kill_after=1)
    p.communicate(timeout=300)
    assert p.returncode == -9
    run = tmp_path / "runs" / cfg.key()
    assert (run / "claim.json").exists() and (run / "ckpt" / "state.json").exists()
    assert not (run / "result.json").exists()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (res,) = sweep([cfg], workers=1, root=tmp_path / "runs", progress=False)
    assert any("stale claim" in str(w.message) and "is gone" in str(w.message) for w in caught)
    assert res["resumed_from_epoch"] == 2 and res["claim_taken_over"]["pid"] == p.pid
    _same(res, ref)


def test_a_failing_config_is_reported_while_the_others_finish(tiny_synthfer, tmp_path, monkeypatch):
    monkeypatch.setenv("SMATE_CKPLUS", str(tmp_path / "no-ckplus-here"))
    bad = _cfg().replace(data={"dataset": "ckplus", "manifest": str(tmp_path / "missing.csv")})
    configs = [_cfg(), bad, _cfg(fold=1)]
    with pytest.raises(SweepError) as info:
        sweep(configs, workers=2, root=tmp_path, progress=False)
    err = info.value
    assert [f.index for f in err.failures] == [1] and err.failures[0].key == bad.key()
    assert bad.key() in str(err) and "missing.csv" in str(err)
    assert err.results[1] is None and err.results[0]["key"] == configs[0].key() and err.results[2] is not None
    quiet = sweep(configs, workers=1, root=tmp_path, progress=False, raise_on_error=False)
    assert quiet[1] is None and quiet[0]["reused"]


def test_default_workers(monkeypatch):
    monkeypatch.setenv("SMATE_WORKERS", "3")
    assert default_workers() == 3
    monkeypatch.setenv("SMATE_WORKERS", "zero")
    with pytest.raises(ValueError, match="SMATE_WORKERS='zero'"):
        default_workers()
    monkeypatch.delenv("SMATE_WORKERS")
    monkeypatch.setenv("SMATE_THREADS", "1")
    assert default_workers() == max(1, os.cpu_count() or 1)


def test_cross_validation_runs_every_fold_and_seed_through_the_sweep(tiny_synthfer, tmp_path):
    from smate_nb.engine.cv import cross_validate

    runs, summary = cross_validate(_cfg(), folds=[0, 1], seeds=[0, 1], workers=1, root=tmp_path, progress=False)
    assert list(zip(runs["fold"], runs["seed"])) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert summary["runs"] == 4 and abs(summary["war_mean"] - runs["war"].mean()) < 1e-12
    assert len(set(runs["key"])) == 4


def test_longest_configs_are_submitted_first_and_results_keep_config_order(tiny_synthfer, tmp_path):
    """Submission order: most clip-epochs first (epochs × training clips counted from the dataset's plan), ties
    in config order; results come back in the order of the configs."""
    import concurrent.futures as cf

    from smate_nb.engine.data import load_data
    from smate_nb.engine.sweeps import longest_first, relative_cost

    short, wide, long_ = _cfg(epochs=1), _cfg(epochs=1, train_starts=(0.0, 0.5)), _cfg(epochs=3)
    train, _, _ = load_data(short.data, progress=False)
    n = len(train)                                 # the clips the engine trains on, counted independently
    assert [relative_cost(c) for c in (short, wide, long_)] == [n, 2 * n, 3 * n]
    assert longest_first([short, wide, long_, _cfg(epochs=1, fold=1)]) == [2, 1, 0, 3]

    submitted = []

    class Recording(cf.ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):
            submitted.append(args[0].key())
            return super().submit(fn, *args, **kwargs)

    configs = [short, long_, wide, short]
    with Recording(max_workers=1) as ex:
        out = sweep(configs, executor=ex, root=tmp_path, progress=False)
    assert submitted == [long_.key(), wide.key(), short.key()]
    assert [r["key"] for r in out] == [c.key() for c in configs]
    assert [len(r["history"]) for r in out] == [1, 3, 1, 1] and out[0] is out[3]
