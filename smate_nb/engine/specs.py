"""Experiment specs: what one training run is, as frozen dataclasses (no torch import here).

An :class:`ExperimentConfig` bundles a :class:`DataSpec` (which clips), a :class:`ModelSpec` (which
network), a :class:`PreprocSpec` (training-time preprocessing: augmentation, LBP, mixed tokens) and an
:class:`OptimSpec` (the optimisation budget), plus the seed. Its :meth:`~ExperimentConfig.key` — a hash of
its canonical JSON — names the folder where the run's result is stored, so the same run requested by two
tables is trained once.

**Where defaults live.** The field defaults below *are* the ``cpu`` profile (the README's main job);
:mod:`smate_nb.config` builds the ``cpu`` profile from them unchanged and the other profiles by replacing
what differs. No value is written twice.

:meth:`ExperimentConfig.validate` checks every field and raises one :class:`ConfigError` (a
``ValueError``) naming the field, the value and the allowed values; :func:`smate_nb.engine.fit` calls it
before anything is written.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

__all__ = ["ConfigError", "DataSpec", "ModelSpec", "PreprocSpec", "OptimSpec", "ExperimentConfig",
           "AMP_CHOICES", "COMPILE_MODES", "LBP_MODES", "MIX_ORIGINS", "DATASETS"]

#: Accepted ``OptimSpec.amp`` values: ``auto`` → bf16 autocast on CUDA, fp32 on CPU; ``bf16-stream`` → no
#: autocast: the step runs the model on bf16 copies of its fp32 parameters (:class:`~smate_nb.engine.step.Bf16Stream`).
AMP_CHOICES = ("auto", "bf16", "bf16-stream", "fp16", "off")
#: Accepted ``OptimSpec.compile_mode`` values (``torch.compile``'s ``mode``; ``default`` = its default).
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
#: Fields left out of :meth:`ExperimentConfig.key` while they hold this default — fields added after results
#: were stored, so that every stored result keeps its key: ``(section, field, default)``.
_KEY_IF_NOT_DEFAULT = (("optim", "compile_mode", "default"), ("data", "task", "expression"),
                       ("data", "train_subject_fraction", 1.0), ("preproc", "mix_origin", "augmented"))
#: How LBP enters a row *without* mixed tokens (the paper does not say; with mixing LBP is one more view).
LBP_MODES = ("replace", "input")
#: What z_origin of Eq. 7 is in a row that mixes *and* augments (``PreprocSpec.mix_origin``): the original clip (the
#: test transform of the stored clip — Eq. 7's "original data"; augmentation enters through the N views only) or one
#: more random augmentation of it (the row without mixing, with the views mixed in).
MIX_ORIGINS = ("original", "augmented")
#: Datasets the engine can load (``custom:*`` names are for datasets passed to ``fit(data=...)``).
DATASETS = ("synthfer-lab", "synthfer-wild", "ckplus", "afew")


class ConfigError(ValueError):
    """An experiment config field holds a value the engine cannot run."""


def _need(cond: bool, field_name: str, value: Any, allowed: str) -> None:
    if not cond:
        raise ConfigError(f"ExperimentConfig.{field_name} = {value!r} is not valid: {allowed}")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))


@dataclass(frozen=True)
class DataSpec:
    """Which clips to train and test on.

    ``dataset``: ``synthfer-lab`` / ``synthfer-wild`` (generated on demand with ``subjects``,
    ``image_size``, ``data_seed`` and generator knobs ``synth_knobs`` — ``(name, value)`` pairs of
    :func:`smate_nb.data.synthfer.make_config`) or ``ckplus`` / ``afew`` (read through the manifest
    ``manifest``). ``test_fold``: for k-fold datasets the held-out, subject-independent fold; ``None``
    uses the manifest's train/test split. ``train_starts``: every training sequence is sampled once per
    start point (fractions of its length; the appearance-bias study adds 1/4, 1/3, 1/2). ``test_starts``:
    the model is evaluated on test clips from each start point (the first gives the headline metrics).
    ``resize`` / ``crop``: the test transform resizes to ``resize`` and centre-crops ``crop`` (paper:
    256 → 224). ``num_frames`` frames are sampled ``stride`` apart (paper: 25, stride 2 CK+ / 3 AFEW).
    ``task``: what the labels are — ``expression`` (the dataset's) or a label-free pretext task of
    :mod:`smate_nb.data.pretext` (``arrow_of_time``: forwards or backwards), for the stand-in pretraining.
    ``train_subject_fraction``: train on this fraction of the training subjects (a data-size curve; the subjects
    kept are a seeded draw per fold that is nested: the 25 % subjects are among the 50 %), test set unchanged.
    """

    dataset: str = "synthfer-lab"
    test_fold: int | None = 0
    folds: int = 10
    num_frames: int = 16
    stride: int = 1
    train_starts: tuple[float, ...] = (0.0,)
    test_starts: tuple[float, ...] = (0.0,)
    resize: int = 72
    crop: int = 64
    subjects: int = 40
    image_size: int = 112
    data_seed: int = 0
    synth_knobs: tuple[tuple[str, Any], ...] = ()
    manifest: str | None = None
    task: str = "expression"
    train_subject_fraction: float = 1.0


@dataclass(frozen=True)
class ModelSpec:
    """Which network: ``arch`` is a ViViT-FE name (``vivit_*``) or a baseline (``framecnn_*``,
    ``c3d_*``, ``cnnrnn_*``).

    ``temporal_position``: ``learned`` | ``tpe_v1`` | ``tpe_v2`` | ``none`` (ViViT only).
    ``overrides``: further architecture fields as ``(name, value)`` pairs (frozen and hashable), e.g.
    ``(("tpe_alpha", 2.0), ("tpe_mode", "direction"))``. ``init``: ``"scratch"``; ``"run:<key>"`` — the
    weights of a finished run of this suite (a stand-in pretraining; head re-zeroed,
    :func:`smate_nb.engine.model.load_pretrained_run`); or the path of a local ViT safetensors checkpoint
    (:mod:`smate_nb.model.vit_init`), inflated to the tubelet by ``inflation``.
    """

    arch: str = "vivit_cpu_fe"
    temporal_position: str = "learned"
    overrides: tuple[tuple[str, Any], ...] = ()
    init: str = "scratch"
    inflation: str = "central"


@dataclass(frozen=True)
class PreprocSpec:
    """Training-time preprocessing (evaluation always sees the test transform of the original clip,
    except ``lbp_mode="input"``, where the model's input is the LBP image in training and test).

    * ``augment``: the training clip is a random crop / resize / flip / rotation / colour jitter of the
      stored clip, one draw per clip (§3.1.2); ``augment_overrides`` are
      :class:`~smate_nb.preprocess.augment.AugmentConfig` fields as ``(name, value)`` pairs (e.g.
      ``(("crop_scale", (0.875, 0.875)),)``). With ``mix`` the ``n_views`` views are augmented too.
    * ``lbp``: LBP (§3.1.3, Eqs. 1–2) of variant ``lbp_variant``. With ``mix`` it is one more view of
      Eq. 7. Without mixing, ``lbp_mode`` says how it enters (the paper does not): ``"replace"`` — a
      training clip is replaced by its LBP image with probability ``lbp_prob`` (LBP as an augmentation);
      ``"input"`` — the model always sees the LBP image (LBP as the input representation).
    * ``mix``: mixed-token embedding (Eq. 7) over ``n_views`` augmented views (+ the LBP view), each
      sample mixed with probability ``mix_prob``. Without ``augment`` there are no augmented views:
      ``n_views`` must be 0 and LBP is the only view. ``mix_origin`` (:data:`MIX_ORIGINS`): whether z_origin is
      the original clip (``"original"``: Eq. 7 reads "original data"; augmentation enters through the views) or
      an augmented one (``"augmented"``, the default of earlier versions, kept so their stored runs keep their key).
    """

    augment: bool = False
    augment_overrides: tuple[tuple[str, Any], ...] = ()
    lbp: bool = False
    lbp_variant: str = "skimage"
    lbp_mode: str = "replace"
    lbp_prob: float = 0.5
    mix: bool = False
    n_views: int = 1
    mix_prob: float = 0.5
    mix_origin: str = "augmented"


@dataclass(frozen=True)
class OptimSpec:
    """AdamW with linear warm-up then cosine decay (per optimiser step), cross-entropy with
    ``label_smoothing``, global gradient-norm clipping at ``grad_clip`` (0 = off), gradient accumulation
    over ``accum_steps`` micro-batches; ``amp`` autocast precision (``auto`` = bf16 on CUDA, fp32 on CPU;
    ``bf16-stream``: bf16 activations and residual stream, fp32 master weights, no autocast);
    ``compile`` wraps the model in ``torch.compile`` with ``compile_mode``. ``eval_every``: also score the first test set every that
    many epochs (0: only at the end) — the history then holds ``test_war`` per scored epoch, for learning
    curves; it does not change training."""

    epochs: int = 20
    batch_size: int = 16
    lr: float = 3e-4
    weight_decay: float = 0.05
    warmup_epochs: float = 1.0
    label_smoothing: float = 0.0
    grad_clip: float = 1.0
    accum_steps: int = 1
    compile: bool = False
    amp: str = "auto"
    compile_mode: str = "default"
    num_workers: int = 0
    eval_batch_size: int = 32
    eval_every: int = 0


def _canonical(obj: Any) -> Any:
    """JSON-ready view: tuples → lists (recursively)."""
    return json.loads(json.dumps(obj, default=list))


@dataclass(frozen=True)
class ExperimentConfig:
    """One experiment. :meth:`key` identifies its stored result; :meth:`validate` checks it."""

    data: DataSpec = field(default_factory=DataSpec)
    model: ModelSpec = field(default_factory=ModelSpec)
    preproc: PreprocSpec = field(default_factory=PreprocSpec)
    optim: OptimSpec = field(default_factory=OptimSpec)
    seed: int = 0
    device: str = "auto"
    tag: str = ""                  # free text; part of the key only if set

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of every field."""
        return _canonical(asdict(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ExperimentConfig":
        """The config of a stored result's ``config`` (inverse of :meth:`to_dict`; lists back to tuples)."""
        def section(kind: type, values: dict[str, Any]) -> Any:
            known = {f.name for f in fields(kind)}
            return kind(**{k: _frozen(v) for k, v in values.items() if k in known})

        return cls(data=section(DataSpec, d["data"]), model=section(ModelSpec, d["model"]),
                   preproc=section(PreprocSpec, d["preproc"]), optim=section(OptimSpec, d["optim"]),
                   seed=d["seed"], device=d.get("device", "auto"), tag=d.get("tag", ""))

    def key(self) -> str:
        """16 hex digits of SHA-256 over the canonical JSON.

        ``device`` is left out (a CPU result should be found by a GPU session); for SynthFER the
        generator version is put in, so a stored result never outlives a change of the data's pixels.
        """
        d = self.to_dict()
        d.pop("device")
        if not d["tag"]:
            d.pop("tag")
        for section, name, default in _KEY_IF_NOT_DEFAULT:
            if d[section].get(name) == default:
                d[section].pop(name)
        if self.data.dataset.startswith("synthfer"):
            from ..data.synthfer import GENERATOR_VERSION

            d["data"]["generator_version"] = GENERATOR_VERSION
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]

    def replace(self, **sections: Any) -> "ExperimentConfig":
        """Copy with sections replaced; dict values update the section's fields, e.g.
        ``cfg.replace(seed=1, data={"test_fold": 3})``."""
        changes = {}
        for name, value in sections.items():
            if name not in {f.name for f in fields(self)}:
                raise ConfigError(f"ExperimentConfig has no section {name!r}; sections: "
                                  f"{[f.name for f in fields(self)]}")
            current = getattr(self, name)
            if isinstance(value, dict):
                unknown = set(value) - {f.name for f in fields(current)}
                if unknown:
                    raise ConfigError(f"ExperimentConfig.{name} has no field(s) {sorted(unknown)}; fields: "
                                      f"{[f.name for f in fields(current)]}")
                value = replace(current, **value)
            changes[name] = value
        return replace(self, **changes)

    def validate(self) -> "ExperimentConfig":
        """Check every field; return ``self`` or raise :class:`ConfigError` naming the field.

        Architecture fields (``model.overrides``, the crop against the patch size) are checked by
        :func:`smate_nb.engine.model.check_model_spec`, called from here.
        """
        d, m, p, o = self.data, self.model, self.preproc, self.optim
        _need(isinstance(d.dataset, str) and (d.dataset in DATASETS or d.dataset.startswith("custom:")),
              "data.dataset", d.dataset, f"one of {DATASETS} (or 'custom:<name>' with fit(data=...))")
        for name in ("folds", "num_frames", "stride", "resize", "crop", "subjects", "image_size"):
            v = getattr(d, name)
            _need(_is_int(v) and v >= 1, f"data.{name}", v, "an integer ≥ 1")
        _need(_is_int(d.data_seed) and d.data_seed >= 0, "data.data_seed", d.data_seed, "an integer ≥ 0")
        _need(d.test_fold is None or (_is_int(d.test_fold) and 0 <= d.test_fold < d.folds), "data.test_fold",
              d.test_fold, f"None (the manifest's train/test split) or a fold index 0..{d.folds - 1}")
        _need(d.resize >= d.crop, "data.resize", d.resize, f"≥ data.crop ({d.crop}): the test transform resizes, "
              "then centre-crops")
        for name in ("train_starts", "test_starts"):
            v = getattr(d, name)
            _need(isinstance(v, tuple) and len(v) >= 1 and all(_is_num(s) and 0 <= s < 1 for s in v),
                  f"data.{name}", v, "a non-empty tuple of start fractions in [0, 1)")
        from ..data.pretext import TASKS

        _need(d.task in TASKS, "data.task", d.task, f"one of {sorted(TASKS)}")
        _need(_is_num(d.train_subject_fraction) and 0 < d.train_subject_fraction <= 1, "data.train_subject_fraction",
              d.train_subject_fraction, "a fraction in (0, 1]")
        _need(isinstance(d.synth_knobs, tuple) and all(isinstance(k, tuple) and len(k) == 2 for k in d.synth_knobs),
              "data.synth_knobs", d.synth_knobs, "a tuple of (name, value) pairs")
        _need(isinstance(m.arch, str) and m.arch, "model.arch", m.arch, "a model name")
        _need(isinstance(m.init, str) and m.init, "model.init", m.init, "'scratch' or a .safetensors path")
        _need(m.inflation in ("central", "average"), "model.inflation", m.inflation, "'central' or 'average'")
        _need(isinstance(p.lbp_variant, str) and p.lbp_variant in ("skimage", "3x3"), "preproc.lbp_variant",
              p.lbp_variant, "'skimage' or '3x3'")
        _need(p.lbp_mode in LBP_MODES, "preproc.lbp_mode", p.lbp_mode, f"one of {LBP_MODES}")
        for name in ("lbp_prob", "mix_prob"):
            v = getattr(p, name)
            _need(_is_num(v) and 0 <= v <= 1, f"preproc.{name}", v, "a probability in [0, 1]")
        _need(_is_int(p.n_views) and p.n_views >= 0, "preproc.n_views", p.n_views, "an integer ≥ 0")
        _need(p.mix_origin in MIX_ORIGINS, "preproc.mix_origin", p.mix_origin, f"one of {MIX_ORIGINS}")
        if p.mix:
            _need(p.n_views + int(p.lbp) >= 1, "preproc.n_views", p.n_views,
                  "≥ 1 when preproc.mix is on (Eq. 7 needs at least one view; LBP counts as one)")
            _need(p.augment or p.n_views == 0, "preproc.n_views", p.n_views,
                  "0 without preproc.augment (the views of Eq. 7 are augmented views; set augment=True)")
            _need(p.lbp_mode == "replace", "preproc.lbp_mode", p.lbp_mode,
                  "'replace' with mixing (with mix=True, LBP is one more view of Eq. 7)")
        if p.augment_overrides:
            from ..preprocess.augment import AugmentConfig

            names = {f.name for f in fields(AugmentConfig)} - {"size"}
            bad = [k for k, _ in p.augment_overrides if k not in names]
            _need(not bad, "preproc.augment_overrides", p.augment_overrides, f"names among {sorted(names)}")
            try:
                AugmentConfig(size=d.crop, **_tuple_values(dict(p.augment_overrides)))
            except (TypeError, ValueError) as err:
                raise ConfigError(f"ExperimentConfig.preproc.augment_overrides = {p.augment_overrides!r}: {err}") from None
        for name in ("epochs", "batch_size", "accum_steps", "eval_batch_size"):
            v = getattr(o, name)
            _need(_is_int(v) and v >= 1, f"optim.{name}", v, "an integer ≥ 1")
        for name in ("num_workers", "eval_every"):
            v = getattr(o, name)
            _need(_is_int(v) and v >= 0, f"optim.{name}", v, "an integer ≥ 0")
        _need(_is_num(o.lr) and o.lr > 0, "optim.lr", o.lr, "a number > 0")
        for name in ("weight_decay", "warmup_epochs", "grad_clip"):
            v = getattr(o, name)
            _need(_is_num(v) and v >= 0, f"optim.{name}", v, "a number ≥ 0")
        _need(_is_num(o.label_smoothing) and 0 <= o.label_smoothing < 1, "optim.label_smoothing",
              o.label_smoothing, "a number in [0, 1)")
        _need(o.amp in AMP_CHOICES, "optim.amp", o.amp, f"one of {AMP_CHOICES}")
        _need(isinstance(o.compile, bool), "optim.compile", o.compile, "True or False")
        _need(o.compile_mode in COMPILE_MODES, "optim.compile_mode", o.compile_mode, f"one of {COMPILE_MODES}")
        _need(o.compile or o.compile_mode == "default", "optim.compile_mode", o.compile_mode,
              "'default' unless optim.compile = True (a mode without compilation would only change the run's key)")
        _need(_is_int(self.seed) and self.seed >= 0, "seed", self.seed, "an integer ≥ 0")
        _need(isinstance(self.device, str) and (self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:")),
              "device", self.device, "'auto', 'cpu', 'cuda' or 'cuda:N'")
        from .model import check_model_spec

        check_model_spec(m, d)
        return self


def _frozen(v: Any) -> Any:
    """JSON lists back to (nested) tuples, as frozen configs hold them."""
    return tuple(_frozen(x) for x in v) if isinstance(v, list) else v


def _tuple_values(d: dict[str, Any]) -> dict[str, Any]:
    """Lists (from JSON) back to the tuples frozen configs hold."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
