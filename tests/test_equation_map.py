"""The overview's equation map points at the cells that state each equation and show its code — in the sources,
in executed copies (where papermill's injected parameters cell shifts every cell after it by one) and in the HTML
pages, whose ids ``eq-N`` / ``eq-N-code`` the map's links land on."""
from __future__ import annotations

import json
import re
from pathlib import Path

import jupytext
import nbformat
import pytest

from smate_nb.html_report import write_html_report
from smate_nb.teaching import (EQUATIONS, cells_of_notebook, equation_anchor, equation_anchors, equation_map,
                               equation_map_markdown, notebook_cells)

REPO = Path(__file__).resolve().parent.parent
STATEMENT = "**The mixing rule.** In training,\n\n$$ z_{mix} = \\frac{1}{N+1}\\sum_i z_i \\qquad (7)$$"

DEMO = f'''# %% [markdown]
# # 01 · Demo
# The overview of Eq. 7 comes later.

# %% tags=["parameters"]
profile = "smoke"

# %%
from smate_nb.model.tokens import mix_tokens
from smate_nb.teaching import show_source

# %% [markdown]
# ## 1 · Mixed tokens (Eq. 7)
#
{chr(10).join("# " + line if line else "#" for line in STATEMENT.splitlines())}

# %%
show_source(mix_tokens)
'''


def _states(source: str, number: int) -> bool:
    """A cell states Eq. ``number``: its formula carries the number, or it names the equation beside a formula."""
    return bool(re.search(rf"\\q?quad\s*\({number}\)|\\tag\{{{number}\}}", source)) or (
        re.search(rf"Eqs?\.\s*[\d–, ]*\b{number}\b", source) is not None and "$" in source)


def _executed_copy(source_nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """What papermill writes: the source's cells with an ``injected-parameters`` cell after the ``parameters`` one."""
    nb = nbformat.reads(nbformat.writes(source_nb), as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell('# Parameters\nprofile = "cpu"\n',
                                                      metadata={"tags": ["injected-parameters"]}))
    return nb


@pytest.fixture()
def demo(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    (notebooks / "01_demo.py").write_text(DEMO)
    source_nb = jupytext.read(notebooks / "01_demo.py")
    return notebooks, source_nb, _executed_copy(source_nb)


def test_the_fixture_shifts_cells_as_papermill_does(demo):
    notebooks, source_nb, executed = demo
    src, run = notebook_cells(notebooks / "01_demo.py"), cells_of_notebook(executed)
    statement = next(c for c in src if "(7)$$" in c.source)
    assert [c.source for c in src] == [c.source.strip("\n") for c in source_nb.cells]
    assert len(run) == len(src) + 1
    # a map by cell number (what it was) points at the cell before the equation in the executed copy
    assert not _states(run[statement.index].source, 7) and _states(run[statement.index + 1].source, 7)


def test_the_maps_target_in_an_executed_copy_is_the_equations_cell(demo):
    notebooks, _, executed = demo
    row = equation_map(notebooks).set_index("Eq.").loc[7]
    assert row["notebook"] == "01_demo" and row["anchor"] == equation_anchor(7)
    anchors = equation_anchors(cells_of_notebook(executed))
    where = {a: i for i, ids in anchors.items() for a in ids}
    assert _states(executed.cells[where[row["anchor"]]].source, 7)
    assert row["code cell"] in executed.cells[where[row["code anchor"]]].source
    assert "injected-parameters" not in executed.cells[where[row["code anchor"]]].metadata.get("tags", [])


def test_the_html_pages_carry_the_anchors_the_maps_links_land_on(demo, tmp_path):
    notebooks, _, executed = demo
    profile = tmp_path / "reports" / "cpu"
    (profile / "executed").mkdir(parents=True)
    nbformat.write(executed, profile / "executed" / "01_demo.ipynb")
    overview = nbformat.v4.new_notebook()       # the overview's cell: the map as a Markdown output
    overview.cells = [nbformat.v4.new_code_cell("Markdown(equation_map_markdown(eq_table))", outputs=[
        nbformat.v4.new_output("execute_result", execution_count=1, data={
            "text/markdown": equation_map_markdown(equation_map(notebooks)), "text/plain": "<Markdown>"})])]
    nbformat.write(overview, profile / "executed" / "00_overview.ipynb")
    write_html_report(profile)
    page = (profile / "html" / "00_overview.html").read_text()
    links = re.findall(r'href="(01_demo\.html)#(eq-7(?:-code)?)"', page)
    assert sorted(f for _, f in links) == ["eq-7", "eq-7-code"], links
    demo_page = (profile / "html" / "01_demo.html").read_text()
    for _, anchor in links:
        after = demo_page.split(f'id="{anchor}"', 1)[1]
        cell = after.split('class="jp-Cell ', 2)[1]          # the cell right after the anchor
        if anchor == "eq-7":
            assert "The mixing rule." in cell and "<math" in cell
        else:
            assert "show_source" in cell and "mix_tokens" in cell


def test_the_committed_cpu_notebooks_anchor_the_maps_cells():
    """Over reports/cpu/executed/ (JSON only): each equation's anchors, computed on the executed copy as its HTML
    page computes them, sit on the very cells the map (read from the sources) names."""
    executed = REPO / "reports" / "cpu" / "executed"
    table = equation_map()
    shifted = False
    for _, row in table.iterrows():
        nb_path = executed / f"{row['notebook']}.ipynb"
        if not nb_path.is_file():
            pytest.skip(f"{nb_path.name} not in the committed report")
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        cells = cells_of_notebook(nb)
        where = {a: i for i, ids in equation_anchors(cells).items() for a in ids}
        statement = cells[where[row["anchor"]]]
        assert _states(statement.source, row["Eq."]), (row["notebook"], row["Eq."], statement.source[:200])
        assert row["section"] in statement.heading
        assert row["code cell"] in cells[where[row["code anchor"]]].source
        source_cells = notebook_cells(REPO / "notebooks" / f"{row['notebook']}.py")
        same = [c.index for c in source_cells if c.source == statement.source]
        shifted |= bool(same) and same[0] != statement.index
    assert shifted, "no executed copy has papermill's injected cell: this test would not catch a shifted index"


def test_every_equation_has_a_place_in_the_notebooks():
    table = equation_map()
    assert len(table) == len(EQUATIONS)
    assert (table["anchor"] != "").all() and (table["code anchor"] != "").all()
