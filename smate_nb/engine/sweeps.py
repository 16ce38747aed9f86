"""Sweeps: many experiment configs trained side by side, on a laptop's cores, a GPU box or a cluster.

:func:`sweep` runs every config through :func:`~smate_nb.engine.fit` on a ``concurrent.futures``
executor and returns the results in the order of the configs:

* default: a local process pool with ``workers`` processes (``$SMATE_WORKERS``, else
  ``cores ÷ torch threads per process``), one torch thread each on CPU; on a machine with CUDA, one
  worker per visible GPU (each sees only its GPU through ``CUDA_VISIBLE_DEVICES``), ``per_gpu`` workers
  per GPU for small models;
* any other ``concurrent.futures.Executor``: Dask distributed (``distributed.Client(address).get_executor()``,
  e.g. a ``LocalCluster``), submitit's ``AutoExecutor`` for SLURM, a thread pool…

What a user can rely on: results land in the content-addressed runs store (a shared filesystem on a
cluster); duplicate configs are trained once, and the same config requested by two sweeps at once is
trained once (the run's claim, :class:`~smate_nb.engine.store.Claim`); a worker killed mid-run leaves its
checkpoint and the next request resumes it; one failing config does not stop the others — all failures
are raised together at the end (:class:`SweepError`, with the keys); a progress bar over configs with an
ETA; results identical to a one-worker run (each config is deterministic on one thread per process).
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import traceback
from dataclasses import dataclass
from typing import Any, Sequence

from .specs import ExperimentConfig

__all__ = ["SweepError", "Failure", "default_workers", "sweep", "prepare_data", "JobExecutor", "relative_cost",
           "longest_first"]


@dataclass
class Failure:
    """One config of a sweep that raised."""

    index: int
    key: str
    error: str
    traceback: str


class SweepError(RuntimeError):
    """Raised at the end of a sweep in which some configs failed.

    Attributes:
        failures: one :class:`Failure` per failed config.
        results: the results in config order, ``None`` where the config failed.
    """

    def __init__(self, failures: list[Failure], results: list[dict[str, Any] | None]) -> None:
        self.failures, self.results = failures, results
        lines = [f"{len(failures)} of {len(results)} configs failed:"]
        lines += [f"  [{f.index}] {f.key}: {f.error}" for f in failures]
        super().__init__("\n".join(lines))


class JobExecutor(cf.Executor):
    """A ``concurrent.futures.Executor`` over a job scheduler whose ``submit(fn, *args)`` returns a *job* with a
    blocking ``result()`` — submitit's ``AutoExecutor`` (SLURM) and ``LocalExecutor`` are such schedulers.

    Each submitted job is watched by a thread that turns its ``result()`` into a ``Future``, so
    :func:`sweep` can take it like any other executor::

        import submitit
        ex = submitit.AutoExecutor(folder="logs/%j"); ex.update_parameters(timeout_min=60, gpus_per_node=1)
        results = sweep(configs, executor=JobExecutor(ex))
    """

    def __init__(self, scheduler: Any, max_watchers: int = 64) -> None:
        self.scheduler = scheduler
        self._watchers = cf.ThreadPoolExecutor(max_workers=max_watchers, thread_name_prefix="job-watch")

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> cf.Future:
        job = self.scheduler.submit(fn, *args, **kwargs)
        return self._watchers.submit(job.result)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._watchers.shutdown(wait=wait, cancel_futures=cancel_futures)


def _threads_per_process() -> int:
    try:
        return max(1, int(os.environ.get("SMATE_THREADS", "1")))
    except ValueError:
        raise ValueError(f"SMATE_THREADS={os.environ['SMATE_THREADS']!r} is not an integer; set e.g. "
                         "SMATE_THREADS=1") from None


def default_workers() -> int:
    """``$SMATE_WORKERS`` if set, else the machine's cores ÷ torch threads per process (≥ 1)."""
    env = os.environ.get("SMATE_WORKERS")
    if env:
        try:
            n = int(env)
        except ValueError:
            raise ValueError(f"SMATE_WORKERS={env!r} is not an integer; set e.g. SMATE_WORKERS=2") from None
        if n < 1:
            raise ValueError(f"SMATE_WORKERS={env!r}: need ≥ 1 worker")
        return n
    return max(1, (os.cpu_count() or 1) // _threads_per_process())


def _visible_gpus() -> list[str]:
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [g for g in env.split(",") if g.strip() and g.strip() != "-1"]
    import torch

    return [str(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []


def _init_worker(gpu_queue: Any, threads: int) -> None:
    """Process-pool initializer: pin this worker to one GPU (if any) and one torch thread per process."""
    if gpu_queue is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = gpu_queue.get()
    os.environ["SMATE_THREADS"] = str(threads)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ["OMP_NUM_THREADS"] = str(threads)


def _run_one(config: ExperimentConfig, root: str | None, retrain: bool) -> dict[str, Any]:
    """What a worker runs: one :func:`fit`, silently (the sweep's bar shows progress)."""
    from ..config import configure_threads
    from .loop import fit

    configure_threads()
    return fit(config, root=root, retrain=retrain, progress=False)


def prepare_data(configs: Sequence[ExperimentConfig], progress: bool = True) -> int:
    """Generate each distinct dataset once and fill its clip cache, in this process, before workers start
    (so two workers never render the same SynthFER folder at once). Returns the number of datasets prepared.

    A dataset that cannot be loaded is left to its runs: each of them fails with the loader's error, which
    the sweep reports with the config's key.
    """
    from .data import load_data

    seen: dict[tuple, Any] = {}
    for c in configs:
        d = c.data
        if d.dataset.startswith("custom:"):
            continue
        ident = (d.dataset, d.subjects, d.image_size, d.data_seed, d.synth_knobs, d.manifest, d.folds, d.resize)
        if ident in seen:
            continue
        seen[ident] = False
        try:
            train, tests, _ = load_data(d, progress=progress)
        except Exception:  # noqa: BLE001 — reported by the config's own run, with its key
            continue
        for ds in [train, *tests.values()]:
            for part in getattr(ds, "datasets", [ds]):
                if hasattr(part, "warm_cache"):
                    part.warm_cache(progress=False)
        seen[ident] = True
    return sum(seen.values())


def relative_cost(config: ExperimentConfig, clips: dict[Any, int] | None = None) -> float:
    """A config's training work in clip-epochs (``epochs × training clips``, from the dataset's plan or manifest;
    nothing is rendered): what :func:`longest_first` orders by. ``0`` where the clips cannot be counted (e.g. a
    ``custom:`` dataset or a missing manifest — that run then fails with its own error, reported by the sweep).
    ``clips``: a memo of training clips per :class:`~smate_nb.engine.specs.DataSpec`, shared across configs.
    """
    from .data import train_clips

    if config.data.dataset.startswith("custom:"):
        return 0.0
    memo = {} if clips is None else clips
    try:
        if config.data not in memo:
            memo[config.data] = train_clips(config.data)
        return float(config.optim.epochs * memo[config.data])
    except (OSError, KeyError, ValueError):
        return 0.0


def longest_first(configs: Sequence[ExperimentConfig]) -> list[int]:
    """Indices of ``configs`` in the order a sweep submits them: the most clip-epochs first
    (:func:`relative_cost`), ties in config order. With a study's cheap runs first the last minutes end on one
    busy worker while the others idle; measured on the appearance-bias study (2 workers, this project's
    2-core box): its ten 252-clip runs came first and its thirty 504-clip runs after, and the sweep took 1839 s
    against 1790 s for a perfect split of the runs' own times."""
    clips: dict[Any, int] = {}   # configs of a study share a few datasets: each is planned once
    costs = [relative_cost(c, clips) for c in configs]
    return sorted(range(len(configs)), key=lambda i: (-costs[i], i))


def sweep(configs: Sequence[ExperimentConfig], *, workers: int | None = None, executor: cf.Executor | None = None,
          progress: bool = True, root: str | os.PathLike | None = None, retrain: bool = False,
          per_gpu: int = 1, raise_on_error: bool = True, desc: str = "sweep") -> list[dict[str, Any] | None]:
    """Train (or fetch) every config; return their results in the order of ``configs``. Distinct configs are
    submitted longest first (:func:`longest_first`), so a sweep does not end on one worker's long tail.

    Args:
        configs: the experiments (each validated before anything starts).
        workers: local worker processes (default :func:`default_workers`; on a CUDA machine one per
            visible GPU × ``per_gpu``). ``1`` runs in this process, one config after the other.
        executor: run on this ``concurrent.futures.Executor`` instead (Dask, submitit, …); the caller owns
            it (it is not shut down here). ``workers`` is then ignored.
        progress: a bar over configs (with ETA).
        root: runs root (default ``$SMATE_RUNS`` / ``runs/``); must be visible to every worker.
        retrain: retrain every config even if stored.
        per_gpu: workers per visible GPU.
        raise_on_error: raise :class:`SweepError` at the end if any config failed (else return ``None``
            in its place).
        desc: the bar's label.
    Returns:
        one result dict per config (duplicates share one training and get equal results).
    """
    import time

    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    configs = list(configs)
    for c in configs:
        c.validate()
    keys = [c.key() for c in configs]
    first: dict[str, int] = {}
    for i, k in enumerate(keys):
        first.setdefault(k, i)
    # submitted longest first (results still come back in config order)
    distinct = list(first.items())
    unique = dict(distinct[j] for j in longest_first([configs[i] for _, i in distinct]))
    root_s = None if root is None else os.fspath(root)
    results: dict[str, dict[str, Any]] = {}
    failures: dict[str, Failure] = {}
    bar = tqdm(total=len(unique), desc=desc, unit="run", disable=not progress)
    own_pool: cf.Executor | None = None
    try:
        if executor is None:
            gpus = _visible_gpus() if any(c.device in ("auto", "cuda") or c.device.startswith("cuda")
                                          for c in configs) else []
            n = (len(gpus) * max(1, per_gpu)) if gpus else (workers or default_workers())
            if n < 1:
                raise ValueError(f"sweep: workers must be ≥ 1, got {workers}")
            n = min(n, len(unique)) or 1
            if n == 1 and not gpus:
                prepare_data([configs[i] for i in unique.values()], progress=False)
                for k, i in unique.items():
                    _collect(k, i, lambda c=configs[i]: _run_one(c, root_s, retrain), results, failures, bar)
                return _finish(keys, results, failures, raise_on_error)
            prepare_data([configs[i] for i in unique.values()], progress=False)
            ctx = mp.get_context("spawn")
            queue = None
            if gpus:
                queue = ctx.Manager().Queue()
                for g in gpus:
                    for _ in range(max(1, per_gpu)):
                        queue.put(g)
            own_pool = cf.ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_init_worker,
                                              initargs=(queue, _threads_per_process()))
            executor = own_pool
        futures = {executor.submit(_run_one, configs[i], root_s, retrain): (k, i) for k, i in unique.items()}
        for fut in cf.as_completed(futures):
            k, i = futures[fut]
            _collect(k, i, fut.result, results, failures, bar)
    finally:
        bar.close()
        if own_pool is not None:
            own_pool.shutdown(wait=True, cancel_futures=True)
        if progress:   # a text line that stays readable in an executed notebook (a widget bar's text is its start)
            trained = sum(not r.get("reused", False) for r in results.values())
            print(f"{desc}: {len(results)} of {len(unique)} runs done in {time.perf_counter() - t0:.0f} s "
                  f"({trained} trained, {len(results) - trained} reused" + (f", {len(failures)} failed)" if failures
                                                                            else ")"))
    return _finish(keys, results, failures, raise_on_error)


def _collect(key: str, index: int, get: Any, results: dict, failures: dict, bar: Any) -> None:
    try:
        results[key] = get()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as err:  # noqa: BLE001 — one failing config must not stop the others
        failures[key] = Failure(index, key, f"{type(err).__name__}: {err}",
                                "".join(traceback.format_exception(type(err), err, err.__traceback__)))
    bar.set_postfix_str(f"{len(failures)} failed" if failures else "", refresh=False)
    bar.update()


def _finish(keys: list[str], results: dict, failures: dict, raise_on_error: bool) -> list[dict[str, Any] | None]:
    out = [results.get(k) for k in keys]
    if failures and raise_on_error:
        raise SweepError(sorted(failures.values(), key=lambda f: f.index), out)
    return out

