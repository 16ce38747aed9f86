"""The report as offline HTML: every executed notebook as a self-contained page, and an index.

``write_html_report(reports/<profile>)`` writes ``reports/<profile>/html/``:

* ``<stem>.html`` per executed notebook (``failed/<stem>.html`` per failed or interrupted copy), exported with
  nbconvert's HTMLExporter: figures are data URIs, code inputs fold away in ``<details>``, outputs are kept; a
  solutions cell (tagged ``solution``, or with its outputs collapsed in JupyterLab — ``"jupyter":
  {"outputs_hidden": true}``) folds away whole, output included; the cell stating each of the paper's equations
  carries the id ``eq-N`` and the cell showing its code ``eq-N-code`` (:func:`smate_nb.teaching.equation_anchors`),
  so the overview's equation map links to them; links to a sibling notebook (``01_x.ipynb#eq-7``) point at its
  page (``01_x.html#eq-7``); Markdown links that a table output carries as text (``[name](../tables/name.md)`` in a
  DataFrame cell) become links;
* ``index.html`` linking every notebook page, every table (rendered from its Markdown, with its CSV) and every
  figure, plus the reproduction check when the folder has one.

Offline by construction: nbconvert's pages load MathJax and require.js from a CDN, so with no network every
equation shows as raw ``$$…$$``. Here the notebooks' LaTeX (``$…$``, ``$$…$$``, ``\\(…\\)``, ``\\[…\\]`` in markdown
cells and Markdown outputs) is converted to MathML at export time with ``latex2mathml`` (browsers render MathML
natively) and no ``<script src>`` or ``<link href>`` to a remote URL is left in a page.
"""
from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .files import read_json_object as _read_json, write_text

__all__ = ["write_html_report", "export_notebook", "tex_to_mathml", "MathSubstitution", "SOLUTION_TAGS",
           "is_solution_cell", "markdown_links_to_html", "notebook_links_to_pages"]

# Code is left alone: fenced blocks and inline code spans (backtick runs of equal length).
_CODE = re.compile(r"^[ \t]*(?P<fence>```+|~~~+).*?^[ \t]*(?P=fence)[ \t]*$|(?P<tick>`+).+?(?P=tick)", re.M | re.S)
# TeX as Jupyter's MathJax configuration reads it: $$…$$, \[…\], \(…\), and $…$ where the opening $ is not followed
# by a space and the closing one is not preceded by a space nor followed by a digit (so "costs $5 and $6" is text).
_MATH = re.compile(r"(?<!\\)\$\$(?P<dd>.+?)\$\$"
                   r"|\\\[(?P<db>.+?)\\\]"
                   r"|\\\((?P<ip>.+?)\\\)"
                   r"|(?<![\\$])\$(?![\s$])(?P<id>(?:[^$\\\n]|\\.|\n(?![ \t]*\n))+?)(?<![\s\\])\$(?!\d)", re.S)
_PLACEHOLDER = re.compile(r"SMATEMATH(\d+)X")
# Operator names latex2mathml 3.81 leaves as a raw "\name" identifier.
_OPERATORS = {"arg", "max", "min", "sup", "inf", "lim", "log", "ln", "exp", "sin", "cos", "tan", "det", "dim",
              "ker", "deg", "gcd", "Pr", "argmax", "argmin", "sinh", "cosh", "tanh", "lg", "hom"}


def tex_to_mathml(tex: str, display: bool) -> tuple[str, str]:
    """Convert one TeX formula to a ``<math>`` element; return ``(mathml, warning)``, warning "" when clean.

    Commands latex2mathml does not know come out as raw ``\\name`` identifiers: operator names (``\\arg``,
    ``\\max``…) are rendered upright; anything else is kept visibly as an error element and reported.
    """
    from latex2mathml.converter import convert

    try:
        mathml = convert(tex.strip(), display="block" if display else "inline")
    except Exception as err:   # unsupported syntax: show the source as code, and say so
        return (f'<code class="math-error" title="latex2mathml could not convert this">{html.escape(tex)}</code>',
                f"could not convert `{tex.strip()}`: {type(err).__name__}: {err}")
    unknown: list[str] = []

    def fix(m: re.Match) -> str:
        name = m.group(2)
        if name in _OPERATORS:
            return f'<mi mathvariant="normal">{name}</mi>' if m.group(1) == "mi" else f"<mo>{name}</mo>"
        unknown.append("\\" + name)
        return f"<merror><mtext>\\{name}</mtext></merror>"

    mathml = re.sub(r"<(mi|mo)>\\([A-Za-z]+)</\1>", fix, mathml)
    mathml = re.sub(r"&(?!#?\w+;)", "&amp;", mathml)   # a bare & (e.g. from "a & b") is not valid markup
    warning = f"unknown TeX command(s) {', '.join(sorted(set(unknown)))} in `{tex.strip()}`" if unknown else ""
    return mathml, warning


@dataclass
class MathSubstitution:
    """Replaces TeX in Markdown by placeholders before rendering, and the placeholders by MathML after.

    Placeholders (``SMATEMATH<n>X``) pass through any Markdown renderer untouched, so TeX is never mangled by
    Markdown emphasis rules (``a_1 * b_2``), and the MathML is never re-escaped.
    """

    mathml: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def protect(self, markdown: str) -> str:
        """Return ``markdown`` with every formula outside code replaced by a placeholder."""
        out, last = [], 0
        for code in _CODE.finditer(markdown):
            out += [self._protect_text(markdown[last:code.start()]), code.group(0)]
            last = code.end()
        out.append(self._protect_text(markdown[last:]))
        return "".join(out)

    def _protect_text(self, text: str) -> str:
        def sub(m: re.Match) -> str:
            display = m.group("dd") is not None or m.group("db") is not None
            tex = next(g for g in (m.group("dd"), m.group("db"), m.group("ip"), m.group("id")) if g is not None)
            mathml, warning = tex_to_mathml(tex, display)
            if warning:
                self.warnings.append(warning)
            self.mathml.append(mathml)
            return f"SMATEMATH{len(self.mathml) - 1}X"
        return _MATH.sub(sub, text)

    def restore(self, page: str) -> str:
        """Put the MathML in place of the placeholders (inside tag attributes, e.g. heading ids, the word "math")."""
        page = re.sub(r"<[^<>]+>", lambda m: _PLACEHOLDER.sub("math", m.group(0)), page)
        return _PLACEHOLDER.sub(lambda m: self.mathml[int(m.group(1))], page)


_TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<style>
details.smate-input > summary { cursor: pointer; color: #555; font: 12px monospace; padding: 2px 0 2px 8px; }
nav.smate-nav { font: 14px sans-serif; padding: 8px 16px; border-bottom: 1px solid #ddd; }
nav.smate-nav .status-failed, nav.smate-nav .status-interrupted { color: #b00; font-weight: bold; }
math[display="block"] { margin: 0.6em 0; }
details.smate-solution { border-left: 3px solid #c9d7e8; padding-left: 8px; margin: 6px 0; }
details.smate-solution > summary { cursor: pointer; color: #355c8a; font: bold 13px sans-serif; padding: 4px 0; }
.jp-OutputArea-output { overflow-x: auto; }
.jp-OutputArea-output td, .jp-OutputArea-output th, .jp-RenderedMarkdown td { overflow-wrap: anywhere; }
</style>
{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
<nav class="smate-nav">{{ resources.smate_nav }}</nav>
{%- endblock body_header -%}
{% block any_cell scoped -%}
{%- for anchor in cell.metadata.get("smate_anchors", []) %}<a id="{{ anchor | escape_html }}" class="smate-anchor"></a>{% endfor -%}
{%- if cell.metadata.get("smate_details") -%}
<details class="smate-solution"><summary>{{ cell.metadata.smate_details | escape_html }}</summary>
{{ super() }}
</details>
{%- else -%}
{{ super() }}
{%- endif -%}
{%- endblock any_cell %}
{% block input_group -%}
<details class="smate-input"><summary>code</summary>
{{ super() }}
</details>
{%- endblock input_group %}
"""

#: Tags that mark a cell as the solutions of a notebook's exercises (JupyterLab: also ``outputs_hidden``).
SOLUTION_TAGS = ("solution", "solutions")
_SOLUTION_SUMMARY = "solutions (click to show)"


def is_solution_cell(cell: Any) -> bool:
    """Whether a notebook cell holds exercise solutions to fold away: tagged ``solution`` (or ``solutions``), or a
    code cell whose outputs JupyterLab shows collapsed (``metadata.jupyter.outputs_hidden``)."""
    meta = cell.get("metadata", {}) or {}
    tags = meta.get("tags", []) or []
    return any(t in SOLUTION_TAGS for t in tags) or bool((meta.get("jupyter") or {}).get("outputs_hidden"))


# A Markdown inline link written as text: [text](url) — text without brackets or tags, url without spaces or quotes.
_MD_LINK = re.compile(r"\[(?P<text>[^\[\]<>\n]+)\]\((?P<url>[^()\s<>\"']+)\)")
_LITERAL = re.compile(r"<(pre|code|script|style|textarea)\b.*?</\1\s*>", re.I | re.S)


def markdown_links_to_html(fragment: str) -> str:
    """Turn Markdown links that an HTML output carries as text (a DataFrame cell ``[t](../tables/t.md)``: pandas
    writes the text, no renderer reads it as Markdown) into ``<a href>``; text inside tags and in ``pre`` /
    ``code`` / ``script`` / ``style`` is left alone. The text is already HTML (escaped by whoever wrote it)."""
    def text_part(chunk: str) -> str:
        pieces = re.split(r"(<[^<>]*>)", chunk)              # tags at odd positions
        return "".join(piece if i % 2 else _MD_LINK.sub(
            lambda m: f'<a href="{html.escape(html.unescape(m.group("url")), quote=True)}">{m.group("text")}</a>',
            piece) for i, piece in enumerate(pieces))

    out, last = [], 0
    for m in _LITERAL.finditer(fragment):
        out += [text_part(fragment[last:m.start()]), m.group(0)]
        last = m.end()
    out.append(text_part(fragment[last:]))
    return "".join(out)


_NOTEBOOK_LINK = re.compile(r'\bhref="(?P<stem>[\w.-]+)\.ipynb(?P<frag>#[^"]*)?"')


def notebook_links_to_pages(page: str, prefix: str = "") -> str:
    """Links to a sibling notebook (``href="01_x.ipynb#eq-7"``, as the notebooks write them so they work in
    JupyterLab) → its page in the report (``href="01_x.html#eq-7"``; ``prefix`` "../" from ``failed/``)."""
    return _NOTEBOOK_LINK.sub(lambda m: f'href="{prefix}{m.group("stem")}.html{m.group("frag") or ""}"', page)


_REMOTE_SCRIPT = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^>]*>\s*</script>", re.I | re.S)
_REMOTE_LINK = re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?(?:https?:)?//[^>]*>", re.I)
_MATHJAX_CONFIG = re.compile(r"<script\b[^>]*type\s*=\s*[\"']text/x-mathjax-config[\"'][^>]*>.*?</script>", re.I | re.S)
_REMOTE_SRC = re.compile(r"\bsrc\s*=\s*[\"']((?:https?:)?//[^\"']+)", re.I)


def _exporter():
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"smate_offline.html.j2": _TEMPLATE})],
                        template_file="smate_offline.html.j2", embed_images=True)


def _prepare(nb: Any, math: MathSubstitution) -> None:
    """Equation anchors and solution folds onto the cells (read by the template); math → placeholders in markdown
    cells and Markdown outputs; LaTeX-only outputs → MathML; Markdown links in HTML outputs → links; widgets → text."""
    from .teaching import cells_of_notebook, equation_anchors

    nb.metadata.pop("widgets", None)   # widget state needs the widget JavaScript from a CDN
    for index, anchors in equation_anchors(cells_of_notebook(nb)).items():   # before the math becomes placeholders
        nb.cells[index].metadata["smate_anchors"] = anchors
    for cell in nb.cells:
        if is_solution_cell(cell):
            cell.metadata["smate_details"] = _SOLUTION_SUMMARY
        if cell.cell_type == "markdown":
            cell.source = math.protect(cell.source)
        for output in cell.get("outputs", []):
            data = output.get("data")
            if not data:
                continue
            if "text/markdown" in data:
                data["text/markdown"] = math.protect(data["text/markdown"])
            if "text/html" in data:
                data["text/html"] = markdown_links_to_html(data["text/html"])
            if "text/latex" in data and "text/html" not in data:
                tex = re.sub(r"^\s*\${1,2}|\${1,2}\s*$", "", data["text/latex"])
                mathml, warning = tex_to_mathml(tex, display=True)
                if warning:
                    math.warnings.append(warning)
                data["text/html"] = mathml
            if "application/vnd.jupyter.widget-view+json" in data:
                del data["application/vnd.jupyter.widget-view+json"]
                data.setdefault("text/plain", "[interactive widget: not shown in the static page]")


def export_notebook(nb_path: Path, dest: Path, nav: str = "", exporter: Any = None, pages_prefix: str = "") -> list[str]:
    """Export one executed notebook to a self-contained offline HTML page at ``dest``.

    Args:
        nb_path: the executed ``.ipynb``.
        dest: the ``.html`` to write (atomically).
        nav: HTML for the navigation bar at the top of the page (link back to the index, status).
        exporter: a reused HTMLExporter (building one loads the templates; optional).
        pages_prefix: where the other notebooks' pages are, relative to ``dest`` ("" beside it, "../" from
            ``failed/``): links to ``<stem>.ipynb`` become links to ``<pages_prefix><stem>.html``.
    Returns:
        warnings: formulas that did not convert cleanly, remote resources left in the page.
    """
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    math = MathSubstitution()
    _prepare(nb, math)
    exporter = exporter or _exporter()
    body, _ = exporter.from_notebook_node(nb, resources={"smate_nav": nav, "metadata": {"name": nb_path.stem,
                                                                                          "path": str(nb_path.parent)}})
    body = _MATHJAX_CONFIG.sub("", _REMOTE_LINK.sub("", _REMOTE_SCRIPT.sub("", body)))
    body = notebook_links_to_pages(math.restore(body), pages_prefix)
    warnings = [f"{nb_path.name}: {w}" for w in math.warnings]
    warnings += [f"{nb_path.name}: the page loads {url} from the network" for url in _REMOTE_SRC.findall(body)]
    write_text(dest, body)
    return warnings


def _status_of(results: Iterable[Any] | None, profile_dir: Path) -> dict[str, dict[str, Any]]:
    """Per notebook: this run's status (from ``results``) or the stamp's, and the failure message if any."""
    executed = profile_dir / "executed"
    out: dict[str, dict[str, Any]] = {}
    for stamp in executed.glob("*.json"):
        data = _read_json(stamp)
        out[stamp.stem] = {"status": data.get("status", "?") if data else "stamp unreadable", "error": {}}
    for record in (executed / "failed").glob("*.json"):
        data = _read_json(record) or {}
        out.setdefault(record.stem, {"status": data.get("status", "failed"), "error": data.get("error", {})})
        out[record.stem]["failure"] = data
    for r in results or []:
        r = r if isinstance(r, dict) else getattr(r, "__dict__", {})
        if r.get("name"):
            out.setdefault(r["name"], {})
            out[r["name"]].update(status=r.get("status", "?"), error=r.get("error") or {})
    return out


def _markdown(text: str, math: MathSubstitution, written_in: str = ".") -> str:
    """``text`` (Markdown with math) as HTML for a page in ``html/``; ``written_in`` is the folder of the profile
    directory the Markdown file lives in (``"."``, ``"tables"``), so its relative links are rebased onto ``html/``
    (``tables/x.csv`` written in the profile folder becomes ``../tables/x.csv``)."""
    import mistune

    render = mistune.create_markdown(escape=True, plugins=["table"])
    return _rebase_links(math.restore(render(math.protect(text))), written_in)


def _rebase_links(page: str, written_in: str) -> str:
    """Relative ``href`` / ``src`` values of ``page``, written relative to ``<profile>/<written_in>/``, made relative
    to ``<profile>/html/``; fragments, absolute paths, ``data:`` and URLs with a scheme are left alone."""
    import posixpath

    def fix(m: re.Match) -> str:
        attr, link = m.group(1), m.group(2)
        if not link or link.startswith(("#", "/")) or re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", link):
            return m.group(0)
        path, _, frag = link.partition("#")
        target = posixpath.normpath(posixpath.join(written_in, path))
        new = posixpath.relpath(target, "html") + (f"#{frag}" if frag else "")
        return f'{attr}="{new}"'

    return re.sub(r'\b(href|src)="([^"]*)"', fix, page)


_INDEX_CSS = """
body { font: 15px/1.45 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 7px; overflow-wrap: anywhere; } th { background: #f3f3f3; }
.failed, .interrupted { color: #b00; font-weight: bold; } .note { background: #fff6d6; padding: 0.6em 1em; }
figure { display: inline-block; margin: 0.5em; vertical-align: top; } figure img { max-width: 320px; border: 1px solid #ddd; }
figcaption { font-size: 12px; } section.table { margin-bottom: 1.5em; } code { font-size: 90%; }
"""


def write_html_report(profile_dir: Path, results: Iterable[Any] | None = None) -> Path:
    """Write ``<profile_dir>/html/``: one offline page per executed (and failed) notebook, and ``index.html``.

    Args:
        profile_dir: a report folder ``<root>/<profile>/`` (with ``executed/``, ``tables/``, ``figures/``).
        results: this run's :class:`smate_nb.suite.NotebookResult` list (or dicts with ``name``/``status``/
            ``error``), used to mark failed and interrupted notebooks; None reads the stamps.
    Returns:
        the path of ``index.html``.
    """
    profile_dir = Path(profile_dir).resolve()
    out = profile_dir / "html"
    executed = profile_dir / "executed"
    status = _status_of(results, profile_dir)
    exporter = _exporter()
    warnings: list[str] = []
    written: set[Path] = set()
    pages: dict[str, str] = {}
    failed_pages: dict[str, str] = {}
    for nb in sorted(p for p in executed.glob("*.ipynb") if not p.name.startswith(".") and p.is_file()):
        info = status.get(nb.stem, {})
        flag = info.get("status", "?")
        note = (f' · <span class="status-{flag}">this run {flag}: see the <a href="failed/{nb.stem}.html">failed '
                f"copy</a>; this page is the last good run</span>") if flag in ("failed", "interrupted") else ""
        dest = out / f"{nb.stem}.html"
        warnings += export_notebook(nb, dest, f'<a href="index.html">← report index</a> · {nb.stem}{note}', exporter)
        written.add(dest)
        pages[nb.stem] = dest.name
    for nb in sorted((executed / "failed").glob("*.ipynb")):
        flag = (status.get(nb.stem, {}).get("failure") or {}).get("status", "failed")
        dest = out / "failed" / f"{nb.stem}.html"
        nav = (f'<a href="../index.html">← report index</a> · {nb.stem} · '
               f'<span class="status-{flag}">{flag} copy</span>')
        warnings += export_notebook(nb, dest, nav, exporter, pages_prefix="../")
        written.add(dest)
        failed_pages[nb.stem] = f"failed/{dest.name}"
    for stale in list(out.rglob("*.html")):   # pages of notebooks no longer in the folder
        if stale not in written and stale.name != "index.html":
            stale.unlink()

    math = MathSubstitution()
    title = f"smate-nb report — profile {profile_dir.name}"
    body = [f"<h1>{html.escape(title)}</h1>",
            f"<p>Folder: <code>{html.escape(str(profile_dir))}</code>. Every notebook is a static page (code folded "
            "under <em>code</em>); tables and figures follow.</p>"]
    if profile_dir.name == "smoke":
        body.append('<p class="note"><strong>The smoke profile\'s numbers are at chance by design</strong>: tiny '
                    "models trained for seconds so that every notebook executes in CI.</p>")
    body += ["<h2>Notebooks</h2>", "<table><tr><th>notebook</th><th>status</th><th>failed copy</th></tr>"]
    for stem in sorted(set(pages) | set(failed_pages)):
        info = status.get(stem, {})
        flag = info.get("status", "?")
        err = info.get("error") or {}
        why = f": {html.escape(str(err.get('ename', '')))}: {html.escape(str(err.get('evalue', ''))[:200])}" if err else ""
        name = f'<a href="{pages[stem]}">{stem}</a>' if stem in pages else stem
        failed = f'<a href="{failed_pages[stem]}">{stem} ({flag})</a>' if stem in failed_pages else ""
        body.append(f'<tr><td>{name}</td><td class="{html.escape(flag)}">{html.escape(flag)}{why}</td>'
                    f"<td>{failed}</td></tr>")
    body.append("</table>")

    reproduction = profile_dir / "reproduction.md"
    if reproduction.is_file():
        text = re.sub(r"\A#[^\n]*\n", "", reproduction.read_text())   # its own title: the h2 below says it
        body += ['<h2 id="reproduction">Reproduction check against the reference</h2>', _markdown(text, math)]

    tables = sorted((profile_dir / "tables").glob("*.md"))
    if tables:
        body += ["<h2>Tables</h2>", "<ul>"]
        body += [f'<li><a href="#table-{t.stem}">{t.stem}</a></li>' for t in tables]
        body.append("</ul>")
        for t in tables:
            kind = (_read_json(t.with_suffix(".json")) or {}).get("reproduce", "compare")
            note = " <small>(timing: measured on the machine that ran it, not compared)</small>" if kind == "timing" else ""
            csv = t.with_suffix(".csv")
            link = f' · <a href="../tables/{csv.name}">CSV</a>' if csv.is_file() else ""
            body += [f'<section class="table" id="table-{t.stem}"><h3>{t.stem}{note}</h3>',
                     _markdown(t.read_text(), math, "tables"), f'<p><a href="../tables/{t.name}">Markdown</a>{link}</p></section>']
    figures = sorted((profile_dir / "figures").glob("*.png"))
    if figures:
        body.append("<h2>Figures</h2>")
        body += [f'<figure><a href="../figures/{f.name}"><img src="../figures/{f.name}" alt="{f.stem}" '
                 f'loading="lazy"></a><figcaption>{f.stem}</figcaption></figure>' for f in figures]
    warnings += math.warnings
    if warnings:
        body += ["<h2>Rendering warnings</h2>", "<ul>"] + [f"<li>{html.escape(w)}</li>" for w in warnings] + ["</ul>"]
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_INDEX_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
    return write_text(out / "index.html", page)
