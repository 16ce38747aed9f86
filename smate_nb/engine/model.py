"""Which network a :class:`~smate_nb.engine.specs.ModelSpec` names, checked and built.

Families, by name prefix: ``vivit_*`` (the ViViT factorised encoder with SMaTE's tokens and temporal
encodings, :mod:`smate_nb.model.vivit`), and the baselines of the comparison study — ``framecnn_*``
(per-frame CNN, averaged over time), ``c3d_*`` (3-D CNN), ``cnnrnn_*`` (per-frame CNN + GRU/LSTM).
"""
from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from .specs import ConfigError, DataSpec, ModelSpec

__all__ = ["FAMILIES", "family_of", "check_model_spec", "build_model", "pretrained_run", "load_pretrained_run"]

#: name prefix → (module, configs dict, builder function, config class)
FAMILIES: dict[str, tuple[str, str, str, str]] = {
    "vivit": ("smate_nb.model.vivit", "VIVIT_CONFIGS", "build_vivit", "ViViTConfig"),
    "framecnn": ("smate_nb.model.framecnn", "FRAMECNN_CONFIGS", "build_framecnn", "FrameCNNConfig"),
    "c3d": ("smate_nb.model.c3d", "C3D_CONFIGS", "build_c3d", "C3DConfig"),
    "cnnrnn": ("smate_nb.model.cnnrnn", "CNNRNN_CONFIGS", "build_cnnrnn", "CNNRNNConfig"),
}
# Fields a ViViT gets from the data / the spec itself, never from overrides.
_VIVIT_FROM_SPEC = {"num_frames", "image_size", "num_classes", "temporal_position"}


def family_of(arch: str) -> str:
    """The family (``vivit``, ``framecnn``, ``c3d``, ``cnnrnn``) of an architecture name."""
    fam = arch.split("_", 1)[0]
    if fam not in FAMILIES:
        raise ConfigError(f"ExperimentConfig.model.arch = {arch!r}: unknown family {fam!r}; names start with one "
                          f"of {sorted(FAMILIES)}")
    return fam


def _family(arch: str) -> tuple[Any, dict, Any, type]:
    mod_name, configs, builder, cls = FAMILIES[family_of(arch)]
    mod = importlib.import_module(mod_name)
    return mod, getattr(mod, configs), getattr(mod, builder), getattr(mod, cls)


def _type_ok(value: Any, default: Any) -> bool:
    if default is None or isinstance(default, str) and value is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, tuple):
        return isinstance(value, (tuple, list))
    return isinstance(value, type(default))


def check_model_spec(spec: ModelSpec, data: DataSpec | None = None) -> None:
    """Check a model spec (and its fit to the clip geometry) without building it.

    Raises:
        ConfigError: unknown architecture, unknown or wrongly typed override, an unknown temporal position,
            or (ViViT) a crop not divisible by the patch size / fewer frames than one tubelet.
    """
    fam = family_of(spec.arch)
    _, configs, _, cls = _family(spec.arch)
    if spec.arch not in configs:
        raise ConfigError(f"ExperimentConfig.model.arch = {spec.arch!r}: unknown {fam} model; choose one of "
                          f"{sorted(configs)}")
    base = configs[spec.arch]
    names = {f.name for f in dataclasses.fields(cls)}
    if not isinstance(spec.overrides, tuple) or not all(isinstance(o, tuple) and len(o) == 2 for o in spec.overrides):
        raise ConfigError(f"ExperimentConfig.model.overrides = {spec.overrides!r}: need a tuple of (name, value) pairs")
    for name, value in spec.overrides:
        if name not in names or (fam == "vivit" and name in _VIVIT_FROM_SPEC):
            raise ConfigError(f"ExperimentConfig.model.overrides: {cls.__name__} has no overridable field {name!r}; "
                              f"fields: {sorted(names - _VIVIT_FROM_SPEC)}")
        if not _type_ok(value, getattr(base, name)):
            raise ConfigError(f"ExperimentConfig.model.overrides: {name} = {value!r} ({type(value).__name__}); "
                              f"expected {type(getattr(base, name)).__name__} like the default "
                              f"{getattr(base, name)!r}")
    try:   # some configs validate in __post_init__, the ViViT's on demand
        cfg = dataclasses.replace(base, **{k: tuple(v) if isinstance(v, list) else v for k, v in spec.overrides})
        if hasattr(cfg, "validate"):
            cfg.validate()
    except ValueError as err:
        raise ConfigError(f"ExperimentConfig.model.overrides: {err}") from None
    if fam == "vivit":
        from ..model.position import TEMPORAL_POSITIONS

        if spec.temporal_position not in TEMPORAL_POSITIONS:
            raise ConfigError(f"ExperimentConfig.model.temporal_position = {spec.temporal_position!r}; choose one "
                              f"of {TEMPORAL_POSITIONS}")
        if spec.init.startswith("run:") and len(spec.init) <= 4:
            raise ConfigError(f"ExperimentConfig.model.init = {spec.init!r}: give the stored run's key, 'run:<key>'")
        if data is not None:
            t, ph, pw = cfg.tubelet
            if data.crop % ph or data.crop % pw:
                raise ConfigError(f"ExperimentConfig.data.crop = {data.crop} is not divisible by the {spec.arch} "
                                  f"patch size {ph}×{pw}; choose a crop that is a multiple of {ph}")
            if data.num_frames < t:
                raise ConfigError(f"ExperimentConfig.data.num_frames = {data.num_frames} is fewer than one "
                                  f"tubelet ({t} frames) of {spec.arch}")
    elif spec.temporal_position != "learned" and spec.temporal_position != ModelSpec.temporal_position:
        raise ConfigError(f"ExperimentConfig.model.temporal_position = {spec.temporal_position!r} applies to ViViT "
                          f"models only; leave it at its default for {spec.arch}")
    if fam != "vivit" and spec.init != "scratch" and not (spec.init.startswith("run:") and len(spec.init) > 4):
        raise ConfigError(f"ExperimentConfig.model.init = {spec.init!r}: a {fam} model starts from 'scratch' or from a "
                          "stored run of the same architecture, 'run:<key>' (ViT checkpoints fit ViViT models only)")


def pretrained_run(spec: ModelSpec) -> str | None:
    """The key of the stored run a spec fine-tunes from (``init="run:<key>"``), or None."""
    return spec.init[4:] if spec.init.startswith("run:") else None


def load_pretrained_run(model: Any, key: str, root: Any = None) -> dict[str, Any]:
    """Copy the weights of a finished run of this suite into ``model`` (fine-tuning from a stand-in pretraining).

    Every tensor is copied except the classifier head (every ``head.*`` tensor: a ViViT's linear head is
    zero-initialised again, as Scenic does when it fine-tunes; a CNN baseline's head keeps its builder's fresh
    initialisation) and the temporal position when the two models' temporal positions differ (a learned table
    is dropped for TPE or ``none``; a fine-tune with a learned table of another length gets it linearly
    interpolated). Any other missing, unexpected or differently shaped tensor is an error listing the keys.

    Returns a report ``{"run", "copied", "skipped"}`` (recorded in the result as ``init``).
    """
    import torch
    from safetensors.torch import load_file

    from ..checkpoint import checkpoint_status
    from .store import run_dir

    folder = run_dir(key, root)
    ckpt = folder / "ckpt"
    status, why = checkpoint_status(ckpt)
    if not (folder / "result.json").exists() or status != "ok":
        raise ConfigError(f"ExperimentConfig.model.init = 'run:{key}': no finished run with a checkpoint in {folder} "
                          f"({why or 'no result.json'}); train the pretraining config first (its key is {key})")
    sd = load_file(str(ckpt / "model.safetensors"))
    own = model.state_dict()
    skipped = sorted(k for k in sd if k.startswith("head."))
    pos = [k for k in set(sd) | set(own) if k.startswith("temporal_position.")]
    for k in pos:
        if k in sd and k in own and sd[k].shape != own[k].shape and sd[k].ndim == 3:
            from ..model.position import interpolate_embedding

            sd[k] = interpolate_embedding(sd[k], own[k].shape[1], keep_first=model.config.cls_takes_temporal_position)
        elif k not in own or k not in sd:
            skipped.append(k)
    take = {k: v for k, v in sd.items() if k in own and k not in skipped}
    missing = sorted(set(own) - set(take) - {k for k in own if k.startswith("head.") or k in skipped})
    unexpected = sorted(set(sd) - set(own) - set(skipped))
    shape = sorted(k for k, v in take.items() if v.shape != own[k].shape)
    if missing or unexpected or shape:
        raise ConfigError(f"run {key} does not fit {type(model).__name__} {model.config}: missing {missing[:8]}, "
                          f"unexpected {unexpected[:8]}, shape mismatch {shape[:8]}")
    model.load_state_dict(take, strict=False)
    with torch.no_grad():
        for name in ("head.weight", "head.bias"):
            if name in own:
                dict(model.named_parameters())[name].zero_()
    return {"run": key, "copied": len(take), "skipped": sorted(set(skipped))}


def build_model(spec: ModelSpec, *, num_frames: int, image_size: int, num_classes: int,
                mix_prob: float = 0.5, root: Any = None) -> Any:
    """Instantiate the network of ``spec`` for a clip geometry, initialised as asked.

    Args:
        spec: the model spec (checked by :func:`check_model_spec`).
        num_frames, image_size: clip geometry ``T`` and crop side.
        num_classes: classes of the head.
        mix_prob: ``p`` of Eq. 7 (ViViT only).
        root: the runs root where an ``init="run:<key>"`` run is stored.
    Returns:
        an ``nn.Module`` called as ``model(clip [B, T, C, H, W], views=None, *, mix=None) → logits [B, K]``.
        With ``spec.init`` a checkpoint path, the ViViT's ``init_report`` says what was loaded.
    """
    check_model_spec(spec)
    overrides = {k: tuple(v) if isinstance(v, list) else v for k, v in spec.overrides}
    fam = family_of(spec.arch)
    _, _, builder, _ = _family(spec.arch)
    if fam != "vivit":
        model = builder(spec.arch, num_classes=num_classes, **overrides)
        if pretrained_run(spec):            # a stand-in of the same family (Table 6 on equal terms)
            model.init_report = load_pretrained_run(model, pretrained_run(spec), root)
        return model
    model = builder(spec.arch, num_frames=num_frames, image_size=image_size, num_classes=num_classes,
                    temporal_position=spec.temporal_position, **{"mix_prob": mix_prob, **overrides})
    if pretrained_run(spec):
        model.init_report = load_pretrained_run(model, pretrained_run(spec), root)
    elif spec.init != "scratch":
        from ..model.vit_init import load_vit_checkpoint

        model.init_report = load_vit_checkpoint(model, spec.init, spec.inflation)
    return model
