"""Notebook parameters, checked: every notebook calls :func:`check` right after its ``parameters`` cell.

Why: papermill's ``-p name value`` passes *text* (``-p folds "[0]"`` gives the string ``"[0]"``, and a notebook
that iterates it runs "on folds ['[', '0', ']']"); lists and dicts must come as YAML (``-y "folds: [0]"``). So each
notebook declares its parameters here, once, and stops on the first cell after the parameters with one
:class:`ParameterError` naming the parameter, the value received, what was expected and how to pass it.

API::

    check(globals(), "03_appearance_bias")     # in a notebook: validate, write converted values back, return them
    validate("appearance_bias", {"folds": [0]})  # anywhere (e.g. a runner, before executing): convert or raise
    SPECS["appearance_bias"]                    # {name: Param}; keyed by slug (the stem without its number)

Conversion is strict: only what is unambiguous is converted (``"3"`` → 3 for an int, ``"0.5"`` → 0.5 for a float,
``"true"`` / ``"false"`` → bool, 3.0 → 3 for an int, a tuple for a list stays a tuple); a *string* for a list or a dict
is always refused, because it is exactly papermill's ``-p`` mistake. A value that already has the right type is
returned unchanged (the same object), so checking a notebook's defaults changes nothing — not even a config hash.

Adding a notebook's spec is a few lines (``profile`` and ``reports_root`` come with :func:`notebook_spec`)::

    SPECS["summary"] = notebook_spec(
        digits=Int(min=0),                     # one entry per assignment of the parameters cell
        models=ListOf(ModelName(), min_len=1),
    )
"""
from __future__ import annotations

import ast
import difflib
import json
import math
import numbers
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "ParameterError", "validate", "check", "SPECS", "notebook_spec", "spec_for", "slug_of", "profile_folds",
    "Param", "Int", "Float", "Bool", "Str", "PathStr", "Optional", "ListOf", "DictOf", "Anything",
    "Profile", "FoldList", "SeedList", "Seed", "ModelName", "Alpha", "AugmentOverrides",
]

_NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
_MISSING = object()


class ParameterError(ValueError):
    """A notebook parameter has the wrong type or value (or is unknown, or the notebook has no spec).

    Attributes: ``notebook`` (as given), ``names`` (the parameters at fault, in spec order).
    """

    def __init__(self, message: str, notebook: str = "", names: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.notebook = notebook
        self.names = list(names)


class _Invalid(Exception):
    """Raised by :meth:`Param.convert`; ``detail`` says what was wrong beyond "not the expected type"."""

    def __init__(self, detail: str = "", note: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.note = note


def _show(value: Any, limit: int = 200) -> str:
    """``repr`` + type, shortened: ``'[0]' (str)``."""
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 5] + " …" + text[-3:]
    return f"{text} ({type(value).__name__})"


def _items(n: int) -> str:
    return f"{n} item" + ("" if n == 1 else "s")


def _choices(choices: Sequence[Any] | Callable[[], Sequence[Any]]) -> list[Any]:
    return list(choices() if callable(choices) else choices)


# ---------------------------------------------------------------------------------------------------------------
# Parameter types
# ---------------------------------------------------------------------------------------------------------------


class Param:
    """One parameter's expected type. Subclasses implement :meth:`convert`, :meth:`describe`, :meth:`example`.

    ``ctx`` is the mapping of parameters already checked (``profile`` first), for types that depend on the profile.
    """

    container = False  # lists / dicts: pass with papermill's -y (YAML), never -p

    def convert(self, value: Any, ctx: Mapping[str, Any]) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def describe(self, ctx: Mapping[str, Any]) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def example(self, ctx: Mapping[str, Any]) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def bad_example(self) -> Any:
        """A value of the wrong type that this parameter refuses (for tests: what a papermill user gets wrong)."""
        return _MISSING


class Anything(Param):
    """Any value (checked further down, e.g. SynthFER knob values by ``synthfer.make_config``)."""

    def convert(self, value, ctx):
        return value

    def describe(self, ctx):
        return "any value"

    def example(self, ctx):
        return 1.0


class Int(Param):
    """An int in ``[min, max]``; converts ``"3"``, ``3.0`` and numpy integers; refuses bools and 3.5."""

    def __init__(self, min: int | None = None, max: int | None = None) -> None:
        self.min, self.max = min, max

    def convert(self, value, ctx):
        if isinstance(value, bool):
            raise _Invalid()
        if isinstance(value, int):
            out = value
        elif isinstance(value, numbers.Integral):
            out = int(value)
        elif isinstance(value, numbers.Real) and math.isfinite(float(value)) and float(value).is_integer():
            out = int(value)
        elif isinstance(value, str):
            text = value.strip()
            try:
                out = int(text)
            except ValueError:
                try:
                    f = float(text)
                except ValueError:
                    raise _Invalid() from None
                if not (math.isfinite(f) and f.is_integer()):
                    raise _Invalid()
                out = int(f)
        else:
            raise _Invalid()
        if (self.min is not None and out < self.min) or (self.max is not None and out > self.max):
            raise _Invalid(f"{out} is out of range")
        return out

    def _range(self) -> str:
        if self.min is not None and self.max is not None:
            return f" in [{self.min}, {self.max}]"
        if self.min is not None:
            return f" ≥ {self.min}"
        if self.max is not None:
            return f" ≤ {self.max}"
        return ""

    def describe(self, ctx):
        return "an int" + self._range()

    def example(self, ctx):
        return self.min if self.min is not None else (self.max if self.max is not None and self.max < 0 else 0)

    def bad_example(self):
        return "abc"


class Float(Param):
    """A finite real number in a range; converts ints and ``"0.5"``; refuses bools, NaN and ±inf."""

    def __init__(self, min: float | None = None, max: float | None = None, *, exclusive_min: bool = False,
                 exclusive_max: bool = False, note: str = "") -> None:
        self.min, self.max = min, max
        self.exclusive_min, self.exclusive_max = exclusive_min, exclusive_max
        self.note = note

    def convert(self, value, ctx):
        if isinstance(value, bool):
            raise _Invalid()
        if isinstance(value, float):
            out = value
        elif isinstance(value, numbers.Real):
            out = float(value)
        elif isinstance(value, str):
            try:
                out = float(value.strip())
            except ValueError:
                raise _Invalid() from None
        else:
            raise _Invalid()
        if not math.isfinite(out):
            raise _Invalid(f"{out} is not finite")
        lo_bad = self.min is not None and (out <= self.min if self.exclusive_min else out < self.min)
        hi_bad = self.max is not None and (out >= self.max if self.exclusive_max else out > self.max)
        if lo_bad or hi_bad:
            raise _Invalid(f"{out} is out of range")
        return out

    def describe(self, ctx):
        parts = []
        if self.min is not None:
            parts.append(f"{'>' if self.exclusive_min else '≥'} {self.min:g}")
        if self.max is not None:
            parts.append(f"{'<' if self.exclusive_max else '≤'} {self.max:g}")
        text = "a finite number" + (" " + " and ".join(parts) if parts else "")
        return text + (f" ({self.note})" if self.note else "")

    def example(self, ctx):
        if self.min is None:
            return 1.0 if self.max is None or self.max >= 1 else float(self.max)
        if self.max is not None and self.max - self.min <= 1:
            return (self.min + self.max) / 2
        return float(self.min + 1)

    def bad_example(self):
        return "abc"


class Bool(Param):
    """``True`` / ``False``; converts ``"true"``/``"false"`` (any case), ``"yes"``/``"no"``, ``"on"``/``"off"``,
    ``"1"``/``"0"`` and the ints 0 / 1."""

    _TRUE = {"true", "yes", "on", "1"}
    _FALSE = {"false", "no", "off", "0"}

    def convert(self, value, ctx):
        if isinstance(value, bool):
            return value
        if type(value).__name__ == "bool_":  # numpy.bool_
            return bool(value)
        if isinstance(value, numbers.Integral) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            text = value.strip().lower()
            if text in self._TRUE:
                return True
            if text in self._FALSE:
                return False
        raise _Invalid()

    def describe(self, ctx):
        return "a bool (True or False)"

    def example(self, ctx):
        return True

    def bad_example(self):
        return "maybe"


class Str(Param):
    """A string, optionally one of ``choices`` (a sequence, or a callable returning one, read when checked) or
    matching the regular expression ``pattern`` (either suffices)."""

    def __init__(self, choices: Sequence[str] | Callable[[], Sequence[str]] | None = None, *,
                 pattern: str | None = None, what: str = "") -> None:
        self.choices, self.pattern, self.what = choices, pattern, what

    def convert(self, value, ctx):
        if not isinstance(value, str):
            raise _Invalid()
        if self.choices is None and self.pattern is None:
            return value
        choices = _choices(self.choices) if self.choices is not None else []
        if value in choices or (self.pattern is not None and re.fullmatch(self.pattern, value)):
            return value
        close = difflib.get_close_matches(value, [str(c) for c in choices], n=1)
        raise _Invalid(f"{value!r} is not a valid choice" + (f" (did you mean {close[0]!r}?)" if close else ""))

    def describe(self, ctx):
        parts = []
        if self.choices is not None:
            parts.append("one of " + ", ".join(repr(c) for c in _choices(self.choices)))
        if self.pattern is not None:
            parts.append(f"a string matching {self.pattern!r}")
        text = " or ".join(parts) if parts else "a string"
        return f"{self.what}: {text}" if self.what else text

    def example(self, ctx):
        choices = _choices(self.choices) if self.choices is not None else []
        return choices[0] if choices else "text"

    def bad_example(self):
        return 123 if self.choices is None and self.pattern is None else "no-such-choice"


class PathStr(Param):
    """A path: a non-empty string or an ``os.PathLike`` (returned unchanged)."""

    def convert(self, value, ctx):
        if isinstance(value, os.PathLike) or (isinstance(value, str) and value.strip()):
            return value
        raise _Invalid()

    def describe(self, ctx):
        return "a path (a non-empty string)"

    def example(self, ctx):
        return "reports"

    def bad_example(self):
        return 123


class ViTCheckpoint(Param):
    """``None`` or a local ViT-B/16 ``.safetensors`` file (timm or Hugging Face layout) that exists, for a profile
    whose model is ``vivit_b_16x2_fe`` (the checkpoint's ViT-B/16 blocks fit no smaller model). Nothing downloads."""

    def convert(self, value, ctx):
        if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "null")):
            return None
        if not (isinstance(value, os.PathLike) or (isinstance(value, str) and value.strip())):
            raise _Invalid()
        path = Path(os.fspath(value)).expanduser()
        if path.suffix != ".safetensors":
            raise _Invalid(f"{path} is not a .safetensors file")
        if not path.is_file():
            raise _Invalid(f"no file {path}", note="give the path of a ViT-B/16 checkpoint you already have")
        if "profile" in ctx:
            from .config import get_profile

            arch = get_profile(ctx["profile"]).model.arch
            if arch != "vivit_b_16x2_fe":
                raise _Invalid(f"the {ctx['profile']!r} profile's model is {arch}; a ViT-B/16 checkpoint fits "
                               "vivit_b_16x2_fe only", note="use profile 'gpu' or 'paper', or init=None")
        # Absolute, so the runs' key does not depend on the working directory. The key names the path, not the
        # file's bytes: replacing the file at the same path needs retrain=True (or a new path).
        return str(path.resolve())

    def describe(self, ctx):
        return "None, or the path of a local ViT-B/16 .safetensors file (profiles gpu / paper)"

    def example(self, ctx):
        return None

    def bad_example(self):
        return 123


class Optional(Param):
    """``None`` or ``inner``. The strings ``"None"`` / ``"null"`` become ``None`` unless ``inner`` takes strings."""

    def __init__(self, inner: Param, none_means: str = "") -> None:
        self.inner, self.none_means = inner, none_means
        self.container = inner.container

    def convert(self, value, ctx):
        if value is None:
            return None
        if (isinstance(value, str) and value.strip() in ("None", "none", "null", "~")
                and not isinstance(self.inner, (Str, PathStr, Anything))):
            return None
        return self.inner.convert(value, ctx)

    def describe(self, ctx):
        none = f"None (→ {self.none_means})" if self.none_means else "None"
        return f"{none} or {self.inner.describe(ctx)}"

    def example(self, ctx):
        return self.inner.example(ctx)

    def bad_example(self):
        return self.inner.bad_example()


class ListOf(Param):
    """A list (or tuple — kept a tuple) of ``inner`` items, with ``min_len`` / ``max_len`` and optionally ``unique``.
    A string is always refused (papermill's ``-p`` gives one)."""

    container = True

    def __init__(self, inner: Param, min_len: int = 0, max_len: int | None = None, unique: bool = False,
                 example: list | None = None) -> None:
        self.inner, self.min_len, self.max_len, self.unique = inner, min_len, max_len, unique
        self._example = example

    def convert(self, value, ctx):
        if isinstance(value, str):
            raise _Invalid(note="a string is not a list: papermill's -p passes its value as text; "
                                "lists must be passed as YAML with -y")
        if not isinstance(value, (list, tuple)):
            raise _Invalid()
        items = []
        for i, item in enumerate(value):
            try:
                items.append(self.inner.convert(item, ctx))
            except _Invalid as err:
                raise _Invalid(f"item [{i}] = {_show(item)}: "
                               + (err.detail or f"not {self.inner.describe(ctx)}")) from None
        if len(items) < self.min_len or (self.max_len is not None and len(items) > self.max_len):
            raise _Invalid(f"it has {_items(len(items))}")
        if self.unique:
            seen = [x for i, x in enumerate(items) if x in items[:i]]
            if seen:
                raise _Invalid(f"{seen[0]!r} is repeated")
        if all(a is b for a, b in zip(items, value)):
            return value
        return type(value)(items)

    def _length(self) -> str:
        if self.max_len is not None and self.max_len == self.min_len:
            return f"exactly {_items(self.min_len)}"
        parts = []
        if self.min_len:
            parts.append(f"at least {_items(self.min_len)}")
        if self.max_len is not None:
            parts.append(f"at most {self.max_len}")
        return ", ".join(parts)

    def describe(self, ctx):
        extra = [p for p in (self._length(), "no repeats" if self.unique else "") if p]
        return f"a list of items each {self.inner.describe(ctx)}" + (f" ({', '.join(extra)})" if extra else "")

    def example(self, ctx):
        if self._example is not None:
            return self._example
        first = self.inner.example(ctx)
        if isinstance(self.inner, Int) and (self.inner.max is None or first + self.min_len <= self.inner.max):
            return [first + i for i in range(max(self.min_len, 2))]  # e.g. [0, 1]
        return [first] * max(self.min_len, 1)

    def bad_example(self):
        return repr(self.example({}))  # the list, as text: what `papermill -p name "[0, 1]"` passes


class DictOf(Param):
    """A dict with keys ``key`` and values ``value``; a string is always refused."""

    container = True

    def __init__(self, key: Param, value: Param, min_len: int = 0, example: dict | None = None) -> None:
        self.key, self.value, self.min_len = key, value, min_len
        self._example = example

    def convert(self, value, ctx):
        if isinstance(value, str):
            raise _Invalid(note="a string is not a dict: papermill's -p passes its value as text; "
                                "dicts must be passed as YAML with -y")
        if not isinstance(value, Mapping):
            raise _Invalid()
        out, same = {}, True
        for k, v in value.items():
            try:
                ck = self.key.convert(k, ctx)
            except _Invalid as err:
                raise _Invalid(f"key {_show(k)}: " + (err.detail or f"not {self.key.describe(ctx)}")) from None
            try:
                cv = self.value.convert(v, ctx)
            except _Invalid as err:
                raise _Invalid(f"value [{k!r}] = {_show(v)}: "
                               + (err.detail or f"not {self.value.describe(ctx)}")) from None
            same = same and ck is k and cv is v
            out[ck] = cv
        if len(out) < self.min_len:
            raise _Invalid(f"it has {_items(len(out))}")
        return value if same else out

    def describe(self, ctx):
        return (f"a dict mapping keys ({self.key.describe(ctx)}) to values ({self.value.describe(ctx)})"
                + (f", at least {_items(self.min_len)}" if self.min_len else ""))

    def example(self, ctx):
        if self._example is not None:
            return self._example
        return {self.key.example(ctx): self.value.example(ctx)}

    def bad_example(self):
        return json.dumps(self.example({}))


# --- domain types ---------------------------------------------------------------------------------------------


def _profile_names() -> list[str]:
    from .config import PROFILES

    return list(PROFILES)


def profile_folds(profile: Any) -> int | None:
    """Number of cross-validation folds of ``profile`` (a name), or ``None`` when unknown.

    Read defensively (the profile's layout changes): the first positive int among ``data.folds``, ``lab.folds``,
    ``folds``, ``cv.folds``, ``split.folds``, ``data.num_folds``, ``num_folds``.
    """
    if not isinstance(profile, str):
        return None
    try:
        from .config import get_profile

        prof = get_profile(profile)
    except Exception:
        return None
    for path in ("data.folds", "lab.folds", "folds", "cv.folds", "split.folds", "data.num_folds", "num_folds"):
        obj: Any = prof
        for part in path.split("."):
            try:
                obj = obj.get(part) if isinstance(obj, Mapping) else getattr(obj, part, None)
            except Exception:  # a property of a half-refactored profile that raises
                obj = None
            if obj is None:
                break
        if isinstance(obj, int) and not isinstance(obj, bool) and obj > 0:
            return obj
    return None


def Profile() -> Str:  # noqa: N802 - a type constructor, like the others
    """A profile name (a key of ``smate_nb.config.PROFILES``)."""
    return Str(_profile_names, what="a profile name")


def Seed() -> Int:  # noqa: N802
    """A random seed: a non-negative int."""
    return Int(min=0)


def SeedList() -> ListOf:  # noqa: N802
    """A non-empty list of distinct non-negative int seeds."""
    return ListOf(Int(min=0), min_len=1, unique=True)


class FoldList(ListOf):
    """A non-empty list of distinct test-fold indices, each ``0 ≤ i < k`` for the profile's ``k`` folds.

    The range is checked when the ``profile`` parameter is known and valid (see :func:`profile_folds`);
    otherwise only ``i ≥ 0``.
    """

    def __init__(self) -> None:
        super().__init__(Int(min=0), min_len=1, unique=True)

    def convert(self, value, ctx):
        out = super().convert(value, ctx)
        k = profile_folds(ctx.get("profile"))
        if k is not None:
            bad = [i for i in out if i >= k]
            if bad:
                raise _Invalid(f"fold {bad[0]} does not exist: profile {ctx.get('profile')!r} has {k} folds "
                               f"(0 … {k - 1})")
        return out

    def describe(self, ctx):
        k = profile_folds(ctx.get("profile"))
        each = f"an int in [0, {k - 1}] (profile {ctx.get('profile')!r} has {k} folds)" if k else "an int ≥ 0"
        return f"a list of fold indices, each {each} (at least 1, no repeats)"

    def example(self, ctx):
        k = profile_folds(ctx.get("profile"))
        return [0, 1] if k is None or k >= 2 else [0]


def _model_names(vivit: bool, framecnn: bool, extra: Sequence[str]) -> Callable[[], list[str]]:
    def names() -> list[str]:
        out = list(extra)
        if vivit:
            from .model.vivit import VIVIT_CONFIGS

            out += list(VIVIT_CONFIGS)
        if framecnn:
            from .model.framecnn import FRAMECNN_CONFIGS

            out += list(FRAMECNN_CONFIGS)
        return out

    return names


def ModelName(vivit: bool = True, framecnn: bool = True, extra: Sequence[str] = ()) -> Str:  # noqa: N802
    """A model name: keys of ``VIVIT_CONFIGS`` and/or ``FRAMECNN_CONFIGS``, plus ``extra`` (e.g. ``"auto"``)."""
    return Str(_model_names(vivit, framecnn, extra), what="a model name")


def Alpha() -> Float:  # noqa: N802
    """TPE's α (Eqs. 9–10): finite, > 0 and ≤ 10 (α ≤ 0 breaks Eq. 10; see ``smate_nb/model/position.py``)."""
    return Float(min=0, max=10, exclusive_min=True, note="TPE α; Eq. 10 breaks for α ≤ 0")


class AugmentOverrides(DictOf):
    """Fields of :class:`~smate_nb.preprocess.augment.AugmentConfig` to replace (``{"crop_scale": [0.9, 0.9]}``),
    checked by building an ``AugmentConfig`` from them (lists count as tuples, as YAML gives them): an unknown
    field, or a value the config refuses (``crop_scale`` outside ``0 < lo ≤ hi ≤ 1``, a probability outside
    [0, 1], …), is refused with the config's reason. ``size`` is the run's crop, not a knob. A valid dict comes
    back as the same object."""

    def __init__(self) -> None:
        super().__init__(Str(_augment_fields, what="an AugmentConfig field"), Anything(),
                         example={"crop_scale": [0.875, 0.875]})

    def convert(self, value, ctx):
        out = super().convert(value, ctx)
        from .preprocess.augment import AugmentConfig

        try:
            AugmentConfig(size=64, **{k: tuple(v) if isinstance(v, list) else v for k, v in out.items()})
        except (TypeError, ValueError) as err:
            raise _Invalid(str(err)) from None
        return out

    def describe(self, ctx):
        return f"a dict of AugmentConfig fields to replace ({', '.join(_augment_fields())}) → their values"


def _augment_fields() -> list[str]:
    from dataclasses import fields

    from .preprocess.augment import AugmentConfig

    return [f.name for f in fields(AugmentConfig) if f.name != "size"]


def _lbp_modes() -> list[str]:
    from .engine.specs import LBP_MODES

    return list(LBP_MODES)


def _tpe_readings() -> list[str]:
    from .model.position import TPE_MODES

    return list(TPE_MODES)


def _baseline_families() -> list[str]:
    from .experiments.comparison import BASELINES

    return list(BASELINES)


def _temporal_positions() -> list[str]:
    from .model.position import TEMPORAL_POSITIONS

    return list(TEMPORAL_POSITIONS)


def _synthfer_knobs() -> list[str]:
    from dataclasses import fields

    from .data.synthfer import SynthFERConfig

    return [f.name for f in fields(SynthFERConfig) if f.name not in ("variant", "subjects", "seed", "image_size")]


# ---------------------------------------------------------------------------------------------------------------
# Specs: one per notebook, keyed by slug; written from each notebook's parameters cell
# ---------------------------------------------------------------------------------------------------------------


def notebook_spec(**params: Param) -> dict[str, Param]:
    """A notebook's spec: ``profile`` and ``reports_root`` (every notebook has them), then ``params`` in order."""
    return {"profile": Profile(), "reports_root": Optional(PathStr(), none_means="reports/ or $SMATE_REPORTS"),
            **params}


SPECS: dict[str, dict[str, Param]] = {
    "model_walkthrough": notebook_spec(
        tpe_lengths=ListOf(Int(min=1), min_len=1, example=[4, 8, 16]),
        tpe_alphas=ListOf(Alpha(), min_len=1, example=[0.5, 1.0, 2.0]),
        toy_seed=Seed(),
    ),
    "preprocessing": notebook_spec(
        seed=Seed(),
        face_backend=Str(("dlib", "haar", "auto")),
    ),
    "appearance_bias": notebook_spec(
        model_arch=ModelName(extra=("auto", "vivit")),
        folds=Optional(FoldList(), none_means="all folds of the profile"),
        seeds=Optional(SeedList(), none_means="the profile's first seed"),
        epochs=Optional(Int(min=1), none_means="the study's default"),
        clip_frames=Optional(Int(min=1), none_means="the study's default"),
        synthfer_knobs=DictOf(Str(_synthfer_knobs, what="a SynthFER knob"), Anything(),
                              example={"resting_offset": 1.5, "peak_intensity": [0.3, 0.8]}),
        train_set_mode=Str(("add", "replace")),
        steps_rule=Str(("equal_steps", "equal_epochs")),
        start_points=DictOf(Str(), Float(min=0, max=1, exclusive_max=True), min_len=1,
                            example={"original": 0.0, "1/2 point": 0.5}),
        test_points=ListOf(Str(), min_len=1, example=["original", "1/2 point"]),
        retrain=Bool(),
    ),
    "cost_by_crop": notebook_spec(
        crops=ListOf(Int(min=1), min_len=1, example=[64, 128]),
        num_frames=Int(min=1),
        stride=Int(min=1),
        num_classes=Int(min=2),
        temporal_position=Str(_temporal_positions),
        big_config=ModelName(framecnn=False),
        big_crops=Optional(ListOf(Int(min=1), example=[64]), none_means="the profile's default"),
        small_config=Optional(ModelName(framecnn=False), none_means="the profile's model"),
        small_tubelet=Optional(ListOf(Int(min=1), min_len=3, max_len=3, example=[2, 16, 16]),
                               none_means="the big model's tubelet"),
        small_crops=Optional(ListOf(Int(min=1), example=[64, 128]), none_means="the profile's default"),
        batch_size=Optional(Int(min=1), none_means="the profile's default"),
        device=Str(("auto", "cpu", "cuda"), pattern=r"cuda:\d+"),
        precision=Str(("auto", "bf16", "bf16-stream", "fp16", "off")),
        compile_model=Bool(),
        warmup_steps=Optional(Int(min=0), none_means="the profile's default"),
        timed_steps=Optional(Int(min=1), none_means="the profile's default"),
        n_views=Int(min=0),
        peak_tflops=Optional(Float(min=0, exclusive_min=True), none_means="looked up by device name"),
        profile_ops=Bool(),
        pipeline_check=Bool(),
        pipeline_views=Int(min=0),
        lbp_variant=Str(("skimage", "3x3")),
        ablation=Optional(Bool(), none_means="on for the paper profile only"),
        ablation_crop=Int(min=1),
        seed=Seed(),
    ),
    "appendix_data": notebook_spec(
        frames_per_row=Int(min=1),
        people_shown=Int(min=1),
    ),
    "position_encodings": notebook_spec(
        report_folds=Optional(FoldList(), none_means="the study's folds for the profile"),
        wild_seeds=Optional(SeedList(), none_means="the study's seeds for the profile"),
        alpha_folds=Optional(FoldList(), none_means="the study's α folds for the profile"),
        mode_folds=Optional(FoldList(), none_means="the study's every-reading folds for the profile"),
        epochs=Optional(Int(min=1), none_means="the study's fine-tuning epochs"),
        length_factors=ListOf(Float(min=1, exclusive_min=True, max=8), min_len=1, example=[1.5, 2.0]),
        tpe_mode=Optional(Str(_tpe_readings, what="a TPE reading"),
                          none_means="the reading chosen on the calibration fold"),
        init=ViTCheckpoint(),
        retrain=Bool(),
    ),
    "comparison": notebook_spec(
        report_folds=Optional(FoldList(), none_means="the study's folds for the profile"),
        wild_seeds=Optional(SeedList(), none_means="the study's seeds for the profile"),
        epochs=Optional(Int(min=1), none_means="the study's fine-tuning epochs"),
        init=ViTCheckpoint(),
        scratch_families=ListOf(Str(_baseline_families, what="a CNN family"), unique=True, example=["C3D"]),
        shuffle_test_frames=Bool(),
        retrain=Bool(),
    ),
    "summary": notebook_spec(),
    "progressive_preprocessing": notebook_spec(
        report_folds=Optional(FoldList(), none_means="the study's folds for the profile"),
        wild_seeds=Optional(SeedList(), none_means="the study's seeds for the profile"),
        epochs=Optional(Int(min=1), none_means="the study's fine-tuning epochs"),
        init=ViTCheckpoint(),
        lbp_mode=Str(_lbp_modes),
        augment_overrides=AugmentOverrides(),
        n_views=Optional(Int(min=1), none_means="the study's augmented views of Eq. 7"),
        retrain=Bool(),
    ),
}

# 00_overview: which profile's committed report the "run it yourself" table reads its measured times from.
SPECS["overview"] = notebook_spec(
    timing_profile=Profile(),
)


def slug_of(notebook: str) -> str:
    """``"03_appearance_bias"`` (or a path to it) → ``"appearance_bias"``; a slug stays as it is."""
    stem = Path(str(notebook)).stem if str(notebook).endswith((".ipynb", ".py")) else str(notebook)
    return re.sub(r"^\d+_", "", stem)


def spec_for(notebook: str) -> dict[str, Param]:
    """The spec of ``notebook`` (stem or slug); :class:`ParameterError` when it has none."""
    __tracebackhide__ = True
    slug = slug_of(notebook)
    if slug not in SPECS:
        raise ParameterError(
            f"notebook {notebook!r} has no parameter spec: every notebook must declare its parameters in "
            f"smate_nb/params.py, e.g. SPECS[{slug!r}] = notebook_spec(name=Int(min=0), ...) "
            f"(notebooks with a spec: {sorted(SPECS)})", notebook=notebook)
    return SPECS[slug]


# ---------------------------------------------------------------------------------------------------------------
# Errors with the fix
# ---------------------------------------------------------------------------------------------------------------


def _shell(text: str) -> str:
    """Quote ``text`` for a POSIX shell, preferring double quotes (readable for lists)."""
    if not re.search(r'["$`\\!]', text):
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _yaml(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)  # JSON is YAML (flow style), tuples become lists
    except (TypeError, ValueError):
        return repr(value)


def _stem_of(notebook: str) -> str:
    slug = slug_of(notebook)
    if slug != notebook and not str(notebook).endswith((".ipynb", ".py")):
        return str(notebook)
    hits = sorted(_NOTEBOOKS_DIR.glob(f"*_{slug}.ipynb"))
    return hits[0].stem if len(hits) == 1 else slug


def _fix_hint(notebook: str, name: str, param: Param, example: Any) -> str:
    """Both ways to pass ``name = example``: papermill (``-y`` YAML for lists / dicts, ``-p`` for scalars) and the
    suite's runner (``--param KEY=VALUE``, read with ``ast.literal_eval``)."""
    nb = f"notebooks/{_stem_of(notebook)}.ipynb out.ipynb"
    runner = f"python -m smate_nb run --only {slug_of(notebook)} --param "
    if param.container:
        pm = f"-y {_shell(f'{name}: {_yaml(example)}')}"
    elif isinstance(example, str):
        # -p turns "3", "True", "None" into a number / bool / None; -r passes the text as it is
        raw = _literal(example) is not _MISSING
        pm = f"{'-r' if raw else '-p'} {name} " + (example if re.fullmatch(r"[-\w.:/]+", example) else _shell(example))
    else:
        pm = f"-p {name} {example!r}"
    as_text = isinstance(example, str) and _literal(example) is _MISSING  # the runner keeps unparsable text as text
    lines = [f"    with papermill:          papermill {nb} {pm}",
             f"    with the suite's runner: {runner}{_shell(f'{name}={example if as_text else repr(example)}')}"]
    if isinstance(param, Optional):
        lines.append(f"    (None: papermill -p {name} None · runner --param {name}=None)")
    return "\n".join(lines)


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _MISSING


def _problem(notebook: str, name: str, param: Param, value: Any, err: _Invalid, ctx: Mapping[str, Any]) -> str:
    expected = param.describe(ctx)
    example = _MISSING
    if isinstance(value, str):  # what the user probably meant, if it is valid: "[0]" → [0]
        parsed = _literal(value)
        if parsed is not _MISSING and not isinstance(parsed, str):
            try:
                param.convert(parsed, ctx)
                example = parsed
            except _Invalid:
                pass
    if example is _MISSING:
        example = param.example(ctx)
    head = f"parameter `{name}` got {_show(value)}"
    if err.detail:
        head += f": {err.detail}"
    lines = [head + ";", f"  expected {expected}."]
    if err.note:
        lines.append(f"  ({err.note}.)")
    lines.append("  Pass it like this (example value):")
    lines.append(_fix_hint(notebook, name, param, example))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------------
# validate / check
# ---------------------------------------------------------------------------------------------------------------


def _ordered(spec: Mapping[str, Param], names: Sequence[str]) -> list[str]:
    """``profile`` first (others depend on it), then spec order."""
    order = [n for n in spec if n in names]
    return (["profile"] if "profile" in order else []) + [n for n in order if n != "profile"]


def _run(notebook: str, spec: Mapping[str, Param], values: Mapping[str, Any], unknown: Sequence[str]) -> dict[str, Any]:
    __tracebackhide__ = True
    out: dict[str, Any] = {}
    problems: list[str] = []
    bad: list[str] = []
    ctx: dict[str, Any] = {}
    for name in _ordered(spec, list(values)):
        param, value = spec[name], values[name]
        try:
            out[name] = param.convert(value, ctx)
            ctx[name] = out[name]
        except _Invalid as err:
            problems.append(_problem(notebook, name, param, value, err, ctx))
            bad.append(name)
    for name in unknown:
        close = difflib.get_close_matches(name, list(spec), n=1)
        problems.append(f"unknown parameter `{name}` (value {_show(values[name])})"
                        + (f"; did you mean `{close[0]}`?" if close else "")
                        + f"\n  {notebook} has the parameters: {', '.join(spec)}")
        bad.append(name)
    if problems:
        what = "a wrong parameter" if len(problems) == 1 else f"{len(problems)} wrong parameters"
        raise ParameterError(f"notebook {notebook}: {what} (types declared in smate_nb/params.py)\n"
                             + "\n".join(f"- {p}" for p in problems), notebook=notebook, names=bad)
    return out


def validate(notebook: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Check and convert ``values`` (parameters as received) for ``notebook`` (a stem or a slug).

    Returns the converted values (the same keys). Raises :class:`ParameterError` — one error for all problems —
    when a value is refused, a name is not a parameter of the notebook, or the notebook has no spec.
    Fold indices are range-checked against ``values["profile"]`` when it is given.
    """
    __tracebackhide__ = True  # IPython and pytest show the error, not this module's frames
    spec = spec_for(notebook)
    return _run(notebook, spec, values, [n for n in values if n not in spec])


def check(namespace: dict, notebook: str) -> dict[str, Any]:
    """What a notebook calls right after its parameters cell: ``check(globals(), "03_appearance_bias")``.

    Validates every parameter of the notebook's spec found in ``namespace``, writes the converted values back
    into it and returns them; raises :class:`ParameterError` (stopping the notebook before any work).
    """
    __tracebackhide__ = True
    spec = spec_for(notebook)
    out = _run(notebook, spec, {n: namespace[n] for n in spec if n in namespace}, [])
    namespace.update(out)
    return out
