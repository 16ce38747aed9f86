"""Helpers for notebooks that teach: the code beside its equation, without a second copy of the code.

:func:`show_source` prints the source of the package function that implements an equation (its docstring
left out by default), so a notebook reads like the Annotated Transformer while the code lives once, in the
package, where the training uses it.

The overview notebook (``00_overview``) is generated from the package and the notebooks, so it stays true when
either changes:

* :func:`equation_map` — one row per equation of the paper (Eqs. 1–10): what it says, the function that
  implements it (a dotted path, resolved by :func:`resolve`), and the notebooks and cells whose Markdown mentions
  it (found by :func:`equation_mentions`, which reads the notebooks' percent-format ``.py`` sources);
* :func:`notebook_cells` — the cells of a percent-format notebook source, numbered as in the paired ``.ipynb``;
* :func:`notebook_costs` — each notebook's measured execution time, read from a profile's committed report.
"""
from __future__ import annotations

import ast
import inspect
import importlib
import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

_REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = _REPO / "notebooks"

__all__ = ["source_of", "show_source", "resolve", "notebook_cells", "equation_mentions", "EQUATIONS",
           "equation_map", "notebook_costs", "FORMER_NAMES"]


def source_of(obj: Callable[..., Any] | type, docstring: bool = False, start: str | None = None) -> str:
    """The source text of a function, method or class.

    Args:
        obj: what to show.
        docstring: keep the docstring (default: drop it, the notebook's text explains).
        start: show only from the first line containing this text (e.g. the line an equation starts on).
    Returns:
        the dedented source.
    """
    src = textwrap.dedent(inspect.getsource(obj))
    if not docstring:
        tree = ast.parse(src)
        node = tree.body[0]
        body = getattr(node, "body", [])
        if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                and isinstance(body[0].value.value, str):
            lines = src.splitlines()
            first, last = body[0].lineno - 1, body[0].end_lineno
            src = "\n".join(lines[:first] + lines[last:]) + "\n"
    if start is not None:
        lines = src.splitlines()
        hits = [i for i, line in enumerate(lines) if start in line]
        if not hits:
            raise ValueError(f"{getattr(obj, '__qualname__', obj)}: no line contains {start!r}")
        src = "\n".join(lines[hits[0]:]) + "\n"
    return src


def show_source(obj: Callable[..., Any] | type, docstring: bool = False, start: str | None = None) -> Any:
    """Display :func:`source_of` as a highlighted code block (Markdown) with the function's module and name.

    Returns the IPython Markdown object (displayed as the cell's output when it is the last expression).
    """
    from IPython.display import Markdown

    where = f"{obj.__module__}.{obj.__qualname__}"
    return Markdown(f"`{where}` — the code that runs:\n\n```python\n{source_of(obj, docstring, start)}```")


# ---------------------------------------------------------------------------------------------------------------
# Dotted paths → objects
# ---------------------------------------------------------------------------------------------------------------


def resolve(path: str) -> Any:
    """The object a dotted path names: ``"smate_nb.model.vivit.ViViTFE.frame_features"`` → that method.

    The longest importable module prefix is imported, the rest is looked up attribute by attribute.
    Raises ``ImportError`` (no module prefix imports) or ``AttributeError`` (naming the missing part).
    """
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        name = ".".join(parts[:cut])
        try:
            obj = importlib.import_module(name)
        except ModuleNotFoundError as err:
            # only "this prefix is not a module" moves on; a module that exists but fails to import is an error
            missing = err.name or ""
            if not (name == missing or name.startswith(missing + ".")):
                raise
            continue
        for i, attr in enumerate(parts[cut:], start=cut):
            if not hasattr(obj, attr):
                raise AttributeError(f"{path}: {'.'.join(parts[:i])} has no attribute {attr!r}")
            obj = getattr(obj, attr)
        return obj
    raise ImportError(f"{path}: no prefix of it is an importable module")


def _where(obj: Any) -> str:
    """``smate_nb/model/tokens.py:23`` for a function, class or method (path relative to the repository)."""
    target = inspect.unwrap(obj)
    try:
        file = Path(inspect.getsourcefile(target) or "")
        line = inspect.getsourcelines(target)[1]
    except (TypeError, OSError):
        return ""
    try:
        file = file.resolve().relative_to(_REPO)
    except ValueError:
        pass
    return f"{file.as_posix()}:{line}"


# ---------------------------------------------------------------------------------------------------------------
# Notebook sources (jupytext percent format)
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One cell of a percent-format source: ``index`` counts from 0 as in the paired ``.ipynb``'s ``cells``."""

    index: int
    kind: str            # "markdown" or "code"
    source: str          # the cell's text (Markdown without the leading "# ")
    heading: str         # the last Markdown heading at or above this cell ("" before the first)


_CELL_START = re.compile(r"^# %%(?P<rest>.*)$")
_HEADING = re.compile(r"^#{1,6}\s+(?P<text>.+?)\s*$")


def notebook_cells(path: str | Path) -> list[Cell]:
    """The cells of a jupytext percent-format notebook source (``notebooks/NN_name.py``).

    The YAML header (``# ---`` … ``# ---``) is not a cell. A cell starts at each ``# %%`` line; ``# %% [markdown]``
    (or ``[md]``) cells have their comment marks removed. Indices match the paired ``.ipynb``.
    """
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    i = 0
    if lines and lines[0].strip() == "# ---":            # jupytext header
        i = 1
        while i < len(lines) and lines[i].strip() != "# ---":
            i += 1
        i += 1
    raw: list[tuple[str, list[str]]] = []
    for line in lines[i:]:
        m = _CELL_START.match(line)
        if m:
            rest = m.group("rest")
            raw.append(("markdown" if re.search(r"\[(markdown|md)\]", rest) else "code", []))
        elif raw:
            raw[-1][1].append(line)
    cells, heading = [], ""
    for index, (kind, body) in enumerate(raw):
        if kind == "markdown":
            body = [ln[2:] if ln.startswith("# ") else ln[1:] if ln.startswith("#") else ln for ln in body]
        text = "\n".join(body).strip("\n")
        if kind == "markdown":
            for ln in text.splitlines():
                h = _HEADING.match(ln)
                if h:
                    heading = h.group("text")
        cells.append(Cell(index, kind, text, heading))
    return cells


# "Eq. 7", "Eq. (7)", "Eqs. 1–2", "Eqs. 3–5, 8", "Eqs. 9 and 10", "Equation (3)", "Equations (9) and (10)".
# A list after a comma or "and" is read only after the plural ("Eqs.", "Equations"), so "Eq. 6, 8 frames" is Eq. 6.
_EQ_REF = re.compile(r"\b(?P<word>Eqs?\.|Equations?)\s*(?P<body>\(?\d{1,2}\)?"
                     r"(?:\s*(?:[–—-]|,|and|&)\s*\(?\d{1,2}\)?(?!\d))*)")
_EQ_ITEM = re.compile(r"\s*(?P<sep>[–—-]|,|and|&)?\s*\(?(?P<n>\d{1,2})\)?")
_RANGE = ("–", "—", "-")


def _equations_in(text: str, max_eq: int = 10) -> set[int]:
    """Equation numbers (1 … ``max_eq``) that ``text`` refers to as "Eq. N", "Eqs. N–M, K", "Equation (N)"."""
    found: set[int] = set()
    for m in _EQ_REF.finditer(text):
        plural = m.group("word") in ("Eqs.", "Equations")
        prev: int | None = None
        for item in _EQ_ITEM.finditer(m.group("body")):
            n, sep = int(item.group("n")), item.group("sep")
            if prev is not None and sep in _RANGE:
                nums = list(range(prev + 1, n + 1)) if n > prev else [n]
            elif prev is None or plural:
                nums = [n]
            else:
                break                      # "Eq. 6, 8 frames": the 8 is not an equation
            found.update(k for k in nums if 1 <= k <= max_eq)
            prev = n
    return found


def equation_mentions(notebooks_dir: str | Path | None = None, max_eq: int = 10,
                      exclude: Iterable[str] = ("overview",)) -> dict[int, list[tuple[str, Cell]]]:
    """Where the notebooks' Markdown mentions each equation: ``{eq: [(notebook stem, cell), …]}``.

    Reads every ``NN_name.py`` (percent format) in ``notebooks_dir`` (default: the suite's ``notebooks/``), in
    reading order; only Markdown cells count (a mention in the text a student reads, not a code comment).
    ``exclude``: notebooks left out, by stem or by the part after the number — by default the overview, which
    names every equation because it holds this map. Equations never mentioned are absent from the dict.
    """
    folder = Path(notebooks_dir) if notebooks_dir else NOTEBOOKS_DIR
    skip = set(exclude)
    out: dict[int, list[tuple[str, Cell]]] = {}
    for path in sorted(folder.glob("[0-9][0-9]_*.py")):
        if path.stem in skip or _slug(path.stem) in skip:
            continue
        for cell in notebook_cells(path):
            if cell.kind != "markdown":
                continue
            for eq in sorted(_equations_in(cell.source, max_eq)):
                out.setdefault(eq, []).append((path.stem, cell))
    return out


# ---------------------------------------------------------------------------------------------------------------
# The paper's equations and the code that implements them
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Equation:
    """One numbered equation of the paper and the package function that implements it."""

    number: int
    section: str                  # the paper's section
    name: str                     # short name
    latex: str                    # the equation as the paper prints it (LaTeX)
    meaning: str                  # what it says, in words
    implementation: str           # dotted path of the implementing function / class / method
    also: tuple[str, ...] = ()    # other places that take part (dotted paths), e.g. the module that calls it


EQUATIONS: tuple[Equation, ...] = (
    Equation(1, "§3.1.3", "LBP code", r"LBP_{P,R} = \sum_{p=0}^{P-1} 2^p \, S(g_p - g_c)",
             "the local binary pattern of a pixel: bit p is set when neighbour p is at least as bright as the "
             "centre; 8 neighbours give a code in 0…255",
             "smate_nb.preprocess.lbp.lbp",
             ("smate_nb.preprocess.lbp.lbp_image",)),
    Equation(2, "§3.1.3", "LBP threshold S", r"S(g_p - g_c) = 1 \text{ if } g_p - g_c \ge 0 \text{ else } 0",
             "the threshold function of Eq. 1: 1 where the neighbour minus the centre is ≥ 0",
             "smate_nb.preprocess.lbp._accumulate",
             ("smate_nb.preprocess.lbp.lbp",)),
    Equation(3, "§3.2.1", "self-attention", r"\mathrm{SA}(z) = \mathrm{softmax}(QK^T/\sqrt{D})\,V",
             "each token's output is a weighted sum of all tokens' values, weighted by query–key similarity "
             "(per head, with D_h = D/k)",
             "smate_nb.model.vivit.MultiHeadSelfAttention",
             ("smate_nb.model.vivit.MultiHeadSelfAttention.attention_probs",)),
    Equation(4, "§3.2.1", "pre-norm attention branch", r"y^\ell = \mathrm{MSA}(\mathrm{LN}(z^\ell)) + z^\ell",
             "a block's first half: LayerNorm, multi-head self-attention, residual add",
             "smate_nb.model.vivit.EncoderBlock.forward",
             ("smate_nb.model.vivit.EncoderBlock",)),
    Equation(5, "§3.2.1", "pre-norm MLP branch", r"z^{\ell+1} = \mathrm{MLP}(\mathrm{LN}(y^\ell)) + y^\ell",
             "a block's second half: LayerNorm, two-layer GELU MLP, residual add",
             "smate_nb.model.vivit.EncoderBlock.forward",
             ("smate_nb.model.vivit.EncoderBlock",)),
    Equation(6, "§3.2.2", "tubelet tokens", r"z_{data} = [E x_1, E x_2, \dots, E x_k]",
             "a clip (original or augmented) becomes k tokens: one linear projection E of each non-overlapping "
             "t×p×p tube",
             "smate_nb.model.tokens.TubeletEmbedding",
             ("smate_nb.model.tokens.uniform_frame_embedding",)),
    Equation(7, "§3.2.2", "mixed-token embedding",
             r"z_{mix} = z_{origin} \text{ if } X=0;\ \tfrac{1}{N+1}(z_{origin} + \textstyle\sum_i z_{aug_i}) "
             r"\text{ if } X=1",
             "in training, with probability p a sample's tokens are the mean of its original's and its N "
             "augmented views' tokens; otherwise (and always at test) the original's",
             "smate_nb.model.tokens.mix_tokens",
             ("smate_nb.model.tokens.MixedTokenEmbedding", "smate_nb.model.vivit.ViViTFE.tokens")),
    Equation(8, "§3.2.2", "spatial encoder input", r"z = [z_{cls}, z_{mix}] + p",
             "a learned CLS token is prepended to each temporal index's tokens and a learned spatial position "
             "embedding p is added",
             "smate_nb.model.vivit.ViViTFE.frame_features",
             ("smate_nb.model.position.LearnedPositionEmbedding",)),
    Equation(9, "§3.2.3", "TPE-v1", r"TPE_1(pos) = 1 / (1 + e^{-\alpha (2pos - L)/L})",
             "a fixed sigmoid position value per temporal index pos = 0…L−1 (α not given in the paper)",
             "smate_nb.model.position.tpe_v1",
             ("smate_nb.model.position.FixedTemporalEncoding", "smate_nb.model.vivit.ViViTFE.temporal_input")),
    Equation(10, "§3.2.3", "TPE-v2", r"TPE_2(pos) = pos^\alpha / L",
             "a fixed power-law position value per temporal index (as printed it leaves [0, 1] for α > 1; "
             "normalized=True reads it as (pos/L)^α)",
             "smate_nb.model.position.tpe_v2",
             ("smate_nb.model.position.FixedTemporalEncoding", "smate_nb.model.vivit.ViViTFE.temporal_input")),
)


def _kind(obj: Any) -> str:
    if inspect.isclass(obj):
        return "class"
    if "." in getattr(obj, "__qualname__", "").replace("<locals>.", ""):
        return "method"
    return "function"


def equation_map(notebooks_dir: str | Path | None = None, exclude: Iterable[str] = ("overview",)) -> Any:
    """The paper's Eqs. 1–10 → the implementing code → the notebooks that explain them, as a DataFrame.

    Columns: ``Eq.``, ``§`` (the paper's section), ``name``, ``what it says``, ``implemented by`` (dotted path),
    ``kind``, ``source`` (file:line), ``also`` (other code taking part), ``notebooks`` (stems mentioning it, in
    reading order) and ``cells`` (``"01_model_walkthrough: 3, 9 · 02_preprocessing: 30"``, 0-based indices of the
    ``.ipynb``'s cells). Every path is resolved (``resolve``), so a renamed function fails here, not in a reader's
    head; the mentions are read from the notebooks now, so the map follows them (``exclude``: see
    :func:`equation_mentions`).
    """
    import pandas as pd

    mentions = equation_mentions(notebooks_dir, exclude=exclude)
    rows = []
    for eq in EQUATIONS:
        obj = resolve(eq.implementation)
        for other in eq.also:
            resolve(other)
        hits = mentions.get(eq.number, [])
        stems = list(dict.fromkeys(stem for stem, _ in hits))
        cells = " · ".join(f"{stem}: " + ", ".join(str(c.index) for s, c in hits if s == stem) for stem in stems)
        rows.append({"Eq.": eq.number, "§": eq.section, "name": eq.name, "what it says": eq.meaning,
                     "implemented by": eq.implementation, "kind": _kind(obj), "source": _where(obj),
                     "also": ", ".join(eq.also), "notebooks": ", ".join(stems) or "—", "cells": cells or "—"})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------------------------
# What a notebook costs to run: measured seconds from a profile's report
# ---------------------------------------------------------------------------------------------------------------

#: Earlier names of notebooks, before the suite was renumbered into learning order, by slug (the stem without its
#: number): the committed report of a profile may still carry them until it is re-executed.
FORMER_NAMES: dict[str, tuple[str, ...]] = {"appendix_data": ("data",)}


def _slug(stem: str) -> str:
    return re.sub(r"^\d+_", "", stem)


def notebook_costs(profile: str = "cpu", reports_root: str | Path | None = None,
                   notebooks: Iterable[str] | None = None) -> Any:
    """Measured execution time of each notebook under ``profile``, read from its report — nothing typed in.

    For each notebook stem (default: every ``NN_name.ipynb`` in ``notebooks/``, in reading order) the executed
    record ``<reports_root>/<profile>/executed/<stem>.json`` (written by ``python -m smate_nb run``) is looked up,
    by stem, else by the part after the number, else by a former name (:data:`FORMER_NAMES`). Its ``seconds`` is
    the wall time of the execution that produced the committed report — a re-execution that reuses stored
    trainings is far cheaper than a fresh one, so the trainings behind it are read from the outputs manifest
    (``outputs/<stem>.json``) where the report has one.

    Returns a DataFrame: ``notebook``, ``recorded as`` (the executed file's stem), ``status``, ``seconds``
    (``None`` when not measured), ``trainings`` (``"40 reused"``, ``"12 trained"``, ``"not recorded"``; ``"—"``
    without a record),
    ``measured`` (``"yes"`` or ``"not yet measured"``); ``seconds`` is a float column (NaN when not measured).
    """
    import pandas as pd

    root = Path(reports_root) if reports_root else _REPO / "reports"
    folder = root / profile / "executed"
    records: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            records[path.stem] = data
    stems = list(notebooks) if notebooks is not None else [p.stem for p in sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))]
    rows = []
    for stem in stems:
        slug = _slug(stem)
        found = stem if stem in records else next(
            (k for k in records if _slug(k) == slug), None) or next(
            (k for k in records if _slug(k) in FORMER_NAMES.get(slug, ())), None)
        rec = records.get(found or "", {})
        seconds = rec.get("seconds")
        trainings = "not recorded" if found else "—"
        manifest = root / profile / "outputs" / f"{found}.json" if found else None
        if manifest is not None and manifest.is_file():
            try:
                runs = json.loads(manifest.read_text(encoding="utf-8")).get("runs") or {}
                trained, reused = int(runs.get("trained", 0)), int(runs.get("reused", 0))
                trainings = (" + ".join(t for t in (f"{trained} trained" if trained else "",
                                                      f"{reused} reused" if reused else "") if t) or "none")
            except (OSError, ValueError, AttributeError, TypeError):
                pass
        rows.append({"notebook": stem, "recorded as": found or "—", "status": rec.get("status", "—"),
                     "seconds": float(seconds) if isinstance(seconds, (int, float)) else None,
                     "trainings": trainings,
                     "measured": "yes" if isinstance(seconds, (int, float)) else "not yet measured"})
    frame = pd.DataFrame(rows)
    # float even when nothing is measured yet (all None would be an object column that cannot be rounded)
    frame["seconds"] = frame["seconds"].astype(float)
    return frame
