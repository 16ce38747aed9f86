"""Helpers for notebooks that teach: the code beside its equation, without a second copy of the code.

:func:`show_source` prints the source of the package function that implements an equation (its docstring
left out by default), so a notebook reads like the Annotated Transformer while the code lives once, in the
package, where the training uses it.

The overview notebook (``00_overview``) is generated from the package and the notebooks, so it stays true when
either changes:

* :func:`equation_map` — one row per equation of the paper (Eqs. 1–10): what it says, the function that
  implements it (a dotted path, resolved by :func:`resolve`), the notebook section that states it and the code cell
  that shows its implementation (:func:`equation_places`, found by content — never by cell number, which an
  executed copy shifts), their HTML ids (:func:`equation_anchor`) and the other notebooks that mention it
  (:func:`equation_mentions`); :func:`equation_map_markdown` is the table the overview shows, with links;
* :func:`equation_anchors` — which cells of a notebook (source or executed) carry which ids in its HTML page;
* :func:`notebook_cells` / :func:`cells_of_notebook` — the cells of a percent-format source or an ``.ipynb``;
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

__all__ = ["source_of", "show_source", "resolve", "notebook_cells", "cells_of_notebook", "equation_mentions",
           "EQUATIONS", "EquationPlace", "equation_places", "equation_anchor", "equation_anchors", "equation_map",
           "equation_map_markdown", "notebook_costs", "FORMER_NAMES"]


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
    """One notebook cell: ``index`` counts from 0 in the notebook it was read from (a percent-format source and its
    paired ``.ipynb`` agree; an executed copy has papermill's injected parameters cell more, so its indices do not —
    which is why the equation map points at cells by what they contain, never by number)."""

    index: int
    kind: str            # "markdown" or "code"
    source: str          # the cell's text (Markdown without the leading "# ")
    heading: str         # the last Markdown heading at or above this cell ("" before the first)


_CELL_START = re.compile(r"^# %%(?P<rest>.*)$")
_HEADING = re.compile(r"^#{1,6}\s+(?P<text>.+?)\s*$")


def _number_cells(raw: Iterable[tuple[str, str]]) -> list[Cell]:
    """``(kind, text)`` pairs in notebook order → :class:`Cell` objects with index and current heading."""
    cells, heading = [], ""
    for index, (kind, text) in enumerate(raw):
        if kind == "markdown":
            for ln in text.splitlines():
                h = _HEADING.match(ln)
                if h:
                    heading = h.group("text")
        cells.append(Cell(index, kind, text, heading))
    return cells


def cells_of_notebook(nb: Mapping[str, Any]) -> list[Cell]:
    """The cells of a notebook already read as JSON (an ``.ipynb`` dict or an ``nbformat`` node), executed copies
    included; raw cells count (they keep the indices) as kind ``"raw"``."""
    raw = []
    for cell in nb.get("cells", []):
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        raw.append((cell.get("cell_type", "code"), text.strip("\n")))
    return _number_cells(raw)


def notebook_cells(path: str | Path) -> list[Cell]:
    """The cells of a notebook: a jupytext percent-format source (``notebooks/NN_name.py``) or an ``.ipynb``.

    In a source, the YAML header (``# ---`` … ``# ---``) is not a cell; a cell starts at each ``# %%`` line;
    ``# %% [markdown]`` (or ``[md]``) cells have their comment marks removed. Indices match the paired ``.ipynb``.
    An ``.ipynb`` is read as JSON (:func:`cells_of_notebook`).
    """
    if Path(path).suffix == ".ipynb":
        return cells_of_notebook(json.loads(Path(path).read_text(encoding="utf-8")))
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
    out = []
    for kind, body in raw:
        if kind == "markdown":
            body = [ln[2:] if ln.startswith("# ") else ln[1:] if ln.startswith("#") else ln for ln in body]
        out.append((kind, "\n".join(body).strip("\n")))
    return _number_cells(out)


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
             ("smate_nb.preprocess.lbp.lbp_image", "smate_nb.preprocess.lbp._lbp_3x3")),
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


# ---------------------------------------------------------------------------------------------------------------
# Where a notebook states each equation, and shows its code — found by content, linked by anchor
# ---------------------------------------------------------------------------------------------------------------

# A display formula numbered as the paper numbers it: "… \qquad (7)$$", "\quad (4)", "\tag{7}".
_DISPLAY = re.compile(r"\$\$(.+?)\$\$|\\\[(.+?)\\\]", re.S)
_EQ_TAG = re.compile(r"\\q?quad\s*\((\d{1,2})\)|\\tag\{(\d{1,2})\}")
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?![\s$])[^$\n]+?(?<![\s\\])\$")
_BOLD = re.compile(r"\*\*(?P<text>[^*\n]+?)\*\*")


def equation_anchor(number: int, part: str = "statement") -> str:
    """The HTML id of an equation's place in a notebook page: ``eq-7`` on the cell that states Eq. 7,
    ``eq-7-code`` on the code cell that shows its implementation (:mod:`smate_nb.html_report` puts them there)."""
    if part not in ("statement", "code"):
        raise ValueError(f"part must be 'statement' or 'code', got {part!r}")
    return f"eq-{int(number)}" + ("-code" if part == "code" else "")


def _strength(cell: Cell, number: int) -> int:
    r"""How plainly a Markdown cell states equation ``number``: 2 — a display formula carrying its number ("(7)"
    after ``\quad``/``\qquad``, or ``\tag{7}``); 1 — it names the equation ("Eq. 7") beside a formula; else 0."""
    if cell.kind != "markdown":
        return 0
    for m in _DISPLAY.finditer(cell.source):
        body = m.group(1) or m.group(2) or ""
        if any(int(t.group(1) or t.group(2)) == number for t in _EQ_TAG.finditer(body)):
            return 2
    if number in _equations_in(cell.source) and (_DISPLAY.search(cell.source) or _INLINE_MATH.search(cell.source)):
        return 1
    return 0


def _import_names(cells: Iterable[Cell]) -> dict[str, str]:
    """Name → dotted path of every ``import`` in the notebook's code cells (``from smate_nb.preprocess import lbp``:
    ``lbp`` → ``smate_nb.preprocess.lbp``); cells that do not parse (magics) are skipped."""
    names: dict[str, str] = {}
    for cell in cells:
        if cell.kind != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    names[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    if a.name != "*":
                        names[a.asname or a.name] = f"{node.module}.{a.name}"
    return names


def _canonical(obj: Any) -> str:
    """``module.qualname`` of a function, class or method (re-exports resolve to where it is defined)."""
    obj = inspect.unwrap(obj)
    if inspect.ismodule(obj):
        return obj.__name__
    return f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}"


def _shown(cell: Cell, names: Mapping[str, str]) -> list[tuple[str, str]]:
    """The ``show_source(X)`` calls of a code cell: ``(call text, canonical name of X)``; X unresolvable → ""."""
    try:
        tree = ast.parse(cell.source)
    except SyntaxError:
        return []
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "show_source" \
                and node.args:
            text = ast.get_source_segment(cell.source, node) or ""
            dotted = ast.unparse(node.args[0])
            head, _, rest = dotted.partition(".")
            target = ""
            if re.fullmatch(r"[A-Za-z_][\w.]*", dotted) and head in names:
                try:
                    target = _canonical(resolve(names[head] + ("." + rest if rest else "")))
                except (ImportError, AttributeError):
                    target = ""
            out.append((text, target))
    return sorted(out, key=lambda t: cell.source.find(t[0]))


def _implements(target: str, paths: Iterable[str]) -> bool:
    """Whether the canonical name ``target`` is one of ``paths`` (dotted, resolved), or a method of one of them, or
    the class of one of them."""
    for path in paths:
        try:
            want = _canonical(resolve(path))
        except (ImportError, AttributeError):
            continue
        if target == want or target.startswith(want + ".") or want.startswith(target + "."):
            return True
    return False


@dataclass(frozen=True)
class EquationPlace:
    """Where one notebook states an equation (``statement``, a Markdown cell) and shows the code that implements it
    (``code``, the cell of its ``show_source(…)`` call, or None). Found from the cells' content, so the same cells
    are found in a source, its paired ``.ipynb`` and an executed copy with papermill's injected parameters cell."""

    number: int
    statement: Cell
    code: Cell | None
    call: str            # the code cell's show_source(…) call as written ("" without a code cell)
    strength: int        # 2: a display formula numbered (N); 1: "Eq. N" named beside a formula

    @property
    def section(self) -> str:
        """The heading of the section the statement sits in, without a trailing parenthesis ("2 · Mixed-token
        embedding" for "2 · Mixed-token embedding (Eq. 7)")."""
        return re.sub(r"\s*\([^()]*\)\s*$", "", self.statement.heading).strip()

    @property
    def lead(self) -> str:
        """The bold phrase of the statement cell that names the equation ("Pre-norm blocks (Eqs. 4–5)."), or ""."""
        for m in _BOLD.finditer(self.statement.source):
            if self.number in _equations_in(m.group("text")):
                return m.group("text").strip()
        return ""


def equation_places(cells: Iterable[Cell], equations: Iterable[Equation] = EQUATIONS) -> dict[int, EquationPlace]:
    """Where the notebook made of ``cells`` states each equation of ``equations``: ``{number: EquationPlace}``.

    The statement is the first Markdown cell of the highest :func:`_strength` (a numbered display formula beats a
    named mention beside a formula; a bare mention does not count). The code cell is the one whose ``show_source``
    shows the equation's ``implementation`` — else one of its ``also`` — nearest after the statement, else the
    nearest before it. Equations the notebook does not state are absent.
    """
    cells = list(cells)
    names = _import_names(cells)
    shown = {c.index: _shown(c, names) for c in cells if c.kind == "code" and "show_source" in c.source}
    out: dict[int, EquationPlace] = {}
    for eq in equations:
        scored = [(s, c) for c in cells if (s := _strength(c, eq.number))]
        if not scored:
            continue
        best = max(s for s, _ in scored)
        statement = next(c for s, c in scored if s == best)
        candidates = []
        for index, calls in shown.items():
            for call, target in calls:
                if not target:
                    continue
                rank = 0 if _implements(target, [eq.implementation]) else 1 if _implements(target, eq.also) else None
                if rank is not None:
                    candidates.append((index < statement.index, rank, abs(index - statement.index), index, call))
        code, call = None, ""
        if candidates:
            *_, index, call = min(candidates)
            code = cells[index]
        out[eq.number] = EquationPlace(eq.number, statement, code, call, best)
    return out


def equation_anchors(cells: Iterable[Cell]) -> dict[int, list[str]]:
    """Cell index → the HTML ids (:func:`equation_anchor`) its page puts on that cell: ``eq-N`` on the cell
    stating Eq. N, ``eq-N-code`` on the cell showing its code (:func:`equation_places` of these very cells, so an
    executed copy's injected cell moves nothing)."""
    anchors: dict[int, list[str]] = {}
    for number, place in sorted(equation_places(cells).items()):
        anchors.setdefault(place.statement.index, []).append(equation_anchor(number))
        if place.code is not None:
            anchors.setdefault(place.code.index, []).append(equation_anchor(number, "code"))
    return anchors


def _sources(notebooks_dir: str | Path | None, exclude: Iterable[str]) -> list[Path]:
    folder = Path(notebooks_dir) if notebooks_dir else NOTEBOOKS_DIR
    skip = set(exclude)
    return [p for p in sorted(folder.glob("[0-9][0-9]_*.py")) if p.stem not in skip and _slug(p.stem) not in skip]


def equation_map(notebooks_dir: str | Path | None = None, exclude: Iterable[str] = ("overview",)) -> Any:
    """The paper's Eqs. 1–10 → the implementing code → the notebook cells that state it and show its code.

    One row per equation. Columns: ``Eq.``, ``§`` (the paper's section), ``name``, ``what it says``,
    ``implemented by`` (dotted path), ``kind``, ``source`` (file:line), ``also`` (other code taking part);
    where it is explained — ``notebook`` (the stem of the first notebook, in reading order, that states it most
    plainly: see :func:`equation_places`), ``section`` (the heading a reader finds it under), ``lead`` (the bold
    phrase of its cell, "" if none), ``code cell`` (the ``show_source(…)`` call under it), ``anchor`` /
    ``code anchor`` (the ids of those two cells in the notebook's HTML page, :func:`equation_anchor`; "" where
    there is no such cell), ``also in`` (the other notebooks whose Markdown mentions or states it).

    Cells are identified by content and heading, never by number: an executed copy has papermill's injected
    parameters cell more than its source, so an index would be off by one there. Every path is resolved
    (:func:`resolve`), so a renamed function fails here, not in a reader's head; the notebooks are read now, so the
    map follows them (``exclude``: notebooks left out, by stem or by the part after the number — by default the
    overview, which holds the map).
    """
    import pandas as pd

    sources = _sources(notebooks_dir, exclude)
    places = {p.stem: equation_places(notebook_cells(p)) for p in sources}
    mentions = equation_mentions(notebooks_dir, exclude=exclude)
    rows = []
    for eq in EQUATIONS:
        obj = resolve(eq.implementation)
        for other in eq.also:
            resolve(other)
        found = [(stem, ps[eq.number]) for stem, ps in places.items() if eq.number in ps]
        stem, place = max(found, key=lambda f: f[1].strength, default=("", None))   # max keeps the first of ties
        mentioned = {s for s, _ in mentions.get(eq.number, [])} | {s for s, _ in found}
        others = [s for s in places if s in mentioned and s != stem]             # reading order
        rows.append({"Eq.": eq.number, "§": eq.section, "name": eq.name, "what it says": eq.meaning,
                     "implemented by": eq.implementation, "kind": _kind(obj), "source": _where(obj),
                     "also": ", ".join(eq.also), "notebook": stem or "—",
                     "section": place.section if place else "—", "lead": place.lead if place else "",
                     "code cell": place.call if place and place.code else "—",
                     "anchor": equation_anchor(eq.number) if place else "",
                     "code anchor": equation_anchor(eq.number, "code") if place and place.code else "",
                     "also in": ", ".join(others) or "—"})
    return pd.DataFrame(rows)


def equation_map_markdown(table: Any, link_suffix: str = ".ipynb") -> str:
    """The equation map (:func:`equation_map`) as a compact Markdown table a reader can follow: per equation, its
    code (dotted path without ``smate_nb.``, and file:line), a link to the section that states it and one to the
    cell that shows its code, and the notebooks that also mention it.

    Links are ``<stem><link_suffix>#<anchor>``: in JupyterLab ``.ipynb`` opens the notebook (find the section by
    its heading, the cell by its call); the HTML report (:mod:`smate_nb.html_report`) turns them into links to its
    pages, where the anchors sit on those cells. Link texts are short so the table fits a page.
    """
    def cell(text: Any) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = ["| Eq. | name | implemented by | stated in | its code | also in |", "|--:|---|---|---|---|---|"]
    for _, r in table.iterrows():
        code = f"`{r['implemented by'].removeprefix('smate_nb.')}` ({r['source'].rsplit('/', 1)[-1]})"
        if r["anchor"]:
            where = f"[{r['notebook'][:2]} § {r['section']}]({r['notebook']}{link_suffix}#{r['anchor']})"
            where += f" — *{r['lead'].rstrip('.')}*" if r["lead"] else ""
        else:
            where = "—"
        shows = (f"[`{r['code cell']}`]({r['notebook']}{link_suffix}#{r['code anchor']})" if r["code anchor"]
                 else "—")
        also = ", ".join(s[:2] for s in str(r["also in"]).split(", ")) if r["also in"] != "—" else "—"
        lines.append("| " + " | ".join(cell(x) for x in (r["Eq."], r["name"], code, where, shows, also)) + " |")
    return "\n".join(lines)


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
