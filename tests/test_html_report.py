"""The offline HTML report: pages parse, links resolve, figures embedded and linked, math as MathML, no CDN."""
import base64
import json
import re
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest

from smate_nb.html_report import MathSubstitution, tex_to_mathml, write_html_report
from smate_nb.suite import main

REPO = Path(__file__).resolve().parent.parent
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
NOT_TEXT = {"pre", "code", "script", "style", "math", "textarea"}   # where TeX-looking text is legitimate


def _png(rgb=(200, 30, 30)) -> bytes:
    """A valid 2×2 PNG."""
    raw = b"".join(b"\0" + bytes(rgb) * 2 for _ in range(2))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class Page(HTMLParser):
    """Collects links, sources, ids and visible text; records tags closed out of order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.text, self.hrefs, self.srcs, self.ids = [], [], [], [], [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])
        if a.get("src"):
            self.srcs.append(a["src"])
        if tag == "link" and a.get("href"):
            self.srcs.append(a["href"])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        a = dict(attrs)
        if a.get("src"):
            self.srcs.append(a["src"])

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if tag not in self.stack:
            self.errors.append(f"stray </{tag}>")
            return
        while self.stack[-1] != tag:
            self.errors.append(f"<{self.stack.pop()}> not closed before </{tag}>")
        self.stack.pop()

    def handle_data(self, data):
        if not NOT_TEXT & set(self.stack):
            self.text.append(data)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    assert not page.errors and not page.stack, (path.name, page.errors[:5], page.stack[:5])
    return page


RAW_TEX = re.compile(r"\$\$|\\\(|\\\[|\$[^$\n]*[\\^_{}][^$\n]*\$")


@pytest.fixture()
def profile_dir(tmp_path):
    base = tmp_path / "reports" / "cpu"
    for sub in ("executed/failed", "tables", "figures"):
        (base / sub).mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Demo $\\alpha$\n\nInline $a_1 + b_2 * c_3$ and \\(x^2\\); a price of $5 and $6 "
                                      "stays text; code `echo $HOME $x$` stays code.\n\n"
                                      "$$ z = \\frac{1}{N+1}\\sum_{i=1}^{N} z_i \\qquad (7)$$\n\n"
                                      "```\n$not_math$\n```"),
        nbformat.v4.new_code_cell("plot()", outputs=[
            nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(_png()).decode(),
                                                         "text/plain": "<Figure>"}),
            nbformat.v4.new_output("display_data", data={"text/markdown": "Markdown output with $\\beta_2$",
                                                         "text/plain": "md"}),
            nbformat.v4.new_output("execute_result", data={"text/latex": "$$\\gamma^2$$", "text/plain": "g"},
                                   execution_count=1)]),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, base / "executed" / "01_demo.ipynb")
    (base / "executed" / "01_demo.json").write_text(json.dumps({"status": "ok"}))
    bad = nbformat.v4.new_notebook()
    bad.cells = [nbformat.v4.new_code_cell("1/0", outputs=[nbformat.v4.new_output(
        "error", ename="ZeroDivisionError", evalue="division by zero", traceback=["ZeroDivisionError"])])]
    nbformat.write(bad, base / "executed" / "failed" / "02_bad.ipynb")
    (base / "executed" / "failed" / "02_bad.json").write_text(json.dumps(
        {"name": "02_bad", "status": "failed", "error": {"ename": "ZeroDivisionError", "evalue": "division by zero"}}))
    (base / "tables" / "01_demo__t.md").write_text("**WAR for $\\alpha = 1$**\n\n| a | b |\n|:--|--:|\n| x | 66.4 ± 10.9 |\n"
                                               "\nfrom [the speed table](../tables/01_demo__speed.md)\n")
    (base / "tables" / "01_demo__t.csv").write_text("a,b\nx,66.4 ± 10.9\n")
    (base / "tables" / "01_demo__speed.md").write_text("| clips/s |\n|--:|\n| 12.0 |\n")
    (base / "tables" / "01_demo__speed.json").write_text(json.dumps({"reproduce": "timing"}))
    (base / "figures" / "01_demo__f.png").write_bytes(_png())
    (base / "figures" / "01_demo__g.png").write_bytes(_png((0, 0, 200)))
    (base / "reproduction.md").write_text("# Reproduction check\n\n| table | verdict |\n|---|---|\n| 01_demo__t | identical |\n"
                                          "\nCSV: [tables/01_demo__t.csv](tables/01_demo__t.csv)\n")
    return base


def test_every_page_parses_links_resolve_and_nothing_needs_the_network(profile_dir):
    index = write_html_report(profile_dir)
    assert index == profile_dir / "html" / "index.html"
    pages = sorted((profile_dir / "html").rglob("*.html"))
    assert [p.relative_to(profile_dir / "html").as_posix() for p in pages] == ["01_demo.html", "failed/02_bad.html",
                                                                               "index.html"]
    parsed = {p: parse(p) for p in pages}
    for path, page in parsed.items():
        text = "".join(page.text)
        assert not RAW_TEX.findall(text), (path.name, RAW_TEX.findall(text))
        remote = [s for s in page.srcs if re.match(r"(https?:)?//", s)]
        assert not remote, (path.name, remote)
        raw = path.read_text()
        assert "mathjax" not in raw.lower() and "require.js" not in raw and "require.min.js" not in raw
    idx = parsed[index]
    for ref in idx.hrefs + idx.srcs:
        url = urlparse(ref)
        if not url.path:      # a fragment: an id on this page
            assert url.fragment in idx.ids, ref
            continue
        assert (index.parent / unquote(url.path)).is_file(), ref
    linked = {Path(unquote(urlparse(r).path)).name for r in idx.hrefs}
    assert {f.name for f in (profile_dir / "figures").glob("*.png")} <= linked      # every figure linked
    assert {"01_demo.html", "02_bad.html", "01_demo__t.csv", "01_demo__t.md", "01_demo__speed.md"} <= linked
    demo = (profile_dir / "html" / "01_demo.html").read_text()
    assert 'src="data:image/png;base64,' in demo                                    # figure embedded
    assert demo.count("<math") == 6 and 'display="block"' in demo                  # α, a₁…, x², Eq. 7, β₂, γ², none else
    assert "<details" in demo and "<summary>code</summary>" in demo                 # inputs fold away
    assert "echo $HOME $x$" in demo and "$not_math$" in demo                        # code left alone
    assert "a price of $5 and $6 stays text" in demo
    index_text = index.read_text()
    assert "<td class=\"failed\">failed: ZeroDivisionError: division by zero</td>" in index_text
    assert "timing: measured on the machine that ran it, not compared" in index_text
    assert "<math" in index_text and "Reproduction check" in index_text            # table captions' math too


def test_results_mark_failures_on_the_pages(profile_dir):
    results = [{"name": "01_demo", "status": "failed", "error": {"ename": "RuntimeError", "evalue": "boom"}}]
    write_html_report(profile_dir, results)
    demo = (profile_dir / "html" / "01_demo.html").read_text()
    assert "this run failed" in demo and 'href="failed/01_demo.html"' in demo
    assert "RuntimeError: boom" in (profile_dir / "html" / "index.html").read_text()


def test_tex_conversion_reports_what_it_cannot_render():
    mathml, warning = tex_to_mathml(r"\arg\min_x f(x) \& a", display=False)
    assert '<mi mathvariant="normal">arg</mi>' in mathml and not warning and "\\arg" not in mathml
    mathml, warning = tex_to_mathml(r"\notacommand{x}", display=True)
    assert "<merror>" in mathml and "unknown TeX command(s) \\notacommand" in warning


def test_every_formula_of_the_suite_notebooks_converts_cleanly():
    math = MathSubstitution()
    for nb_path in sorted((REPO / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(nb_path, as_version=4).cells:
            if cell.cell_type == "markdown":
                left = math.protect(cell.source)
                assert not RAW_TEX.findall(re.sub(r"`[^`]*`", "", left)), (nb_path.name, left)
    assert math.mathml and not math.warnings, math.warnings


def test_html_command_rebuilds_the_pages_of_an_existing_report(profile_dir, capsys):
    assert main(["html", "--profile", "cpu", "--reports", str(profile_dir.parent)]) == 0
    assert (profile_dir / "html" / "01_demo.html").is_file()
    assert "index.html" in capsys.readouterr().out
    assert main(["html", "--profile", "smoke", "--reports", str(profile_dir.parent)]) == 2
    assert "no " in capsys.readouterr().err


def test_the_committed_cpu_html_report_is_complete_and_offline():
    """reports/cpu/html/: a page per executed notebook, every index link and image resolves, every figure is
    linked, no page loads anything from the network or carries raw TeX."""
    base = Path(__file__).resolve().parents[1] / "reports" / "cpu"
    html = base / "html"
    executed = sorted(p.stem for p in (base / "executed").glob("*.ipynb"))
    assert executed, "reports/cpu/executed/ is empty"
    assert sorted(p.stem for p in html.glob("[0-9][0-9]_*.html")) == executed
    index = html / "index.html"
    idx = parse(index)
    for ref in idx.hrefs + idx.srcs:
        url = urlparse(ref)
        if not url.path:
            assert url.fragment in idx.ids, ref
            continue
        assert not url.scheme and (index.parent / unquote(url.path)).is_file(), ref
    linked = {Path(unquote(urlparse(r).path)).name for r in idx.hrefs}
    assert {f.name for f in (base / "figures").glob("*.png")} <= linked
    for page_path in sorted(html.glob("[0-9][0-9]_*.html")):
        page = parse(page_path)
        text = "".join(page.text)
        assert not RAW_TEX.findall(text), (page_path.name, RAW_TEX.findall(text)[:5])
        assert not [s for s in page.srcs if re.match(r"(https?:)?//", s)], page_path.name
        assert "mathjax" not in page_path.read_text().lower(), page_path.name


def test_markdown_links_a_table_output_carries_as_text_become_links(tmp_path):
    """A DataFrame cell holding "[name](../tables/name.md)" (notebook 08's sources) is text to pandas and to
    nbconvert alike; the page must show a link, not the Markdown."""
    import pandas as pd

    from smate_nb.html_report import export_notebook, markdown_links_to_html

    frame = pd.DataFrame({"claim": ["a & b"], "source": ["[04_x__table2](../tables/04_x__table2.md)"]})
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("claims", outputs=[nbformat.v4.new_output(
        "execute_result", execution_count=1, data={"text/html": frame.to_html(), "text/plain": frame.to_string()})]),
        nbformat.v4.new_code_cell("print('[not](a-link)')", outputs=[nbformat.v4.new_output(
            "execute_result", execution_count=2,
            data={"text/html": "<pre>[kept](as-text)</pre>", "text/plain": "x"})])]
    nbformat.write(nb, tmp_path / "08_demo.ipynb")
    export_notebook(tmp_path / "08_demo.ipynb", tmp_path / "08_demo.html")
    page = parse(tmp_path / "08_demo.html")
    assert "../tables/04_x__table2.md" in page.hrefs
    assert "](../tables/" not in "".join(page.text)
    assert "a &amp; b" in (tmp_path / "08_demo.html").read_text()                 # the rest of the cell untouched
    assert markdown_links_to_html("<pre>[kept](as-text)</pre>") == "<pre>[kept](as-text)</pre>"
    assert markdown_links_to_html('<td title="[x](y)">[x](y)</td>') == '<td title="[x](y)"><a href="y">x</a></td>'


def test_solution_cells_fold_away_whole_and_notebook_links_point_at_pages(tmp_path):
    from smate_nb.html_report import export_notebook, is_solution_cell, notebook_links_to_pages

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("## Exercises\n\n1. See [the data variants](09_x.ipynb#data-variants)."),
        nbformat.v4.new_code_cell("print('answer 42')", metadata={"tags": ["solution"],
                                                                  "jupyter": {"source_hidden": True,
                                                                              "outputs_hidden": True}},
                                  outputs=[nbformat.v4.new_output("stream", name="stdout", text="answer 42\n")]),
        nbformat.v4.new_code_cell("print('shown')", outputs=[nbformat.v4.new_output("stream", name="stdout",
                                                                                   text="shown\n")])]
    nbformat.write(nb, tmp_path / "01_x.ipynb")
    export_notebook(tmp_path / "01_x.ipynb", tmp_path / "01_x.html")
    page = (tmp_path / "01_x.html").read_text()
    parse(tmp_path / "01_x.html")
    folded = page.split('<details class="smate-solution">', 1)[1].split("</details>\n", 1)
    assert "answer 42" in page.split('<details class="smate-solution">', 1)[1]
    assert "answer 42" not in page.split('<details class="smate-solution">', 1)[0]       # only inside the fold
    assert "shown" not in folded[0] and "shown" in page
    assert 'href="09_x.html#data-variants"' in page
    assert is_solution_cell(nb.cells[1]) and not is_solution_cell(nb.cells[2])
    assert is_solution_cell({"metadata": {"jupyter": {"outputs_hidden": True}}})
    assert notebook_links_to_pages('<a href="02_y.ipynb">', "../") == '<a href="../02_y.html">'
    assert notebook_links_to_pages('<a href="https://x.org/a.ipynb">') == '<a href="https://x.org/a.ipynb">'
