"""smate_nb.teaching: the equation map resolves and stays true to the notebooks; notebook sources parse as jupytext
does; run costs are read from a report, never invented.

Generic on purpose: the notebooks are discovered, so a notebook added later (one that mentions more equations, or
one more row of the reading order) is covered without editing this file.
"""
from __future__ import annotations

import inspect
import json
from pathlib import Path

import nbformat
import pytest

from smate_nb import teaching
from smate_nb.teaching import (EQUATIONS, _equations_in, equation_map, equation_mentions, notebook_cells,
                               notebook_costs, resolve, source_of)

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))


def test_the_paper_has_ten_equations_each_mapped_once():
    assert [e.number for e in EQUATIONS] == list(range(1, 11))
    for e in EQUATIONS:
        assert e.section.startswith("§") and e.latex and e.meaning and e.implementation.startswith("smate_nb.")


@pytest.mark.parametrize("eq", EQUATIONS, ids=lambda e: f"eq{e.number}")
def test_every_implementation_path_resolves_to_code(eq):
    for path in (eq.implementation, *eq.also):
        obj = resolve(path)
        assert callable(obj), path
        assert source_of(obj).strip(), path        # show_source can display it


def test_the_map_names_the_functions_the_brief_names():
    impl = {e.number: e.implementation for e in EQUATIONS}
    assert impl[1] == "smate_nb.preprocess.lbp.lbp"
    assert impl[6] == "smate_nb.model.tokens.TubeletEmbedding"
    assert impl[7] == "smate_nb.model.tokens.mix_tokens"
    assert impl[3] == "smate_nb.model.vivit.MultiHeadSelfAttention"
    assert impl[8] == "smate_nb.model.vivit.ViViTFE.frame_features"
    assert impl[9] == "smate_nb.model.position.tpe_v1" and impl[10] == "smate_nb.model.position.tpe_v2"
    assert resolve(impl[4]) is resolve(impl[5])   # one block's forward holds both halves


def test_implementations_compute_their_equation():
    """Spot checks that each path is the right code, not just existing code."""
    import torch

    from smate_nb.preprocess.lbp import lbp

    win = torch.tensor([[9, 1, 9], [1, 5, 9], [1, 1, 1]], dtype=torch.uint8)   # E=9, NE=9, N=1, NW=9, …
    assert int(lbp(win, "3x3")[1, 1]) == 1 + 2 + 8                             # bits E, NE, NW set (Eq. 1–2)
    z0, z1 = torch.zeros(2, 3), torch.ones(2, 3)
    out = resolve("smate_nb.model.tokens.mix_tokens")(z0, [z1], torch.tensor([0, 1]))
    assert torch.equal(out, torch.tensor([[0.0] * 3, [0.5] * 3]))             # Eq. 7 with N = 1
    v2 = resolve("smate_nb.model.position.tpe_v2")(4, 2.0)
    assert torch.allclose(v2, torch.tensor([0.0, 1.0, 4.0, 9.0]) / 4)          # Eq. 10 as printed
    assert "Eq. 4" in inspect.getsource(resolve("smate_nb.model.vivit.EncoderBlock.forward"))


def test_resolve_refuses_missing_names_with_the_missing_part():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        resolve("smate_nb.model.vivit.ViViTFE.nope")
    with pytest.raises(ImportError):
        resolve("no_such_package_xyz.f")


@pytest.mark.parametrize("text, expected", [
    ("Eq. 7", {7}), ("Eqs. 1–2", {1, 2}), ("Eqs. 3–5, 8", {3, 4, 5, 8}), ("(Eqs. 9–10, Fig. 10)", {9, 10}),
    ("Equation (3)", {3}), ("Equations (9) and (10)", {9, 10}), ("mixing (Eq. 7).", {7}), ("Eqs. 4-5", {4, 5}),
    ("Eq. 6, 8 frames", {6}), ("Table 5, Eq. 12", set()), ("Fig. 7 and Table 3", set()),
    ("Eqs. 3–5, 8.", {3, 4, 5, 8}),
])
def test_equation_references_are_read_as_a_reader_would(text, expected):
    assert _equations_in(text) == expected


@pytest.mark.parametrize("py", SOURCES, ids=[p.stem for p in SOURCES])
def test_cells_are_numbered_as_in_the_paired_notebook(py):
    nb = nbformat.read(py.with_suffix(".ipynb"), as_version=4)
    cells = notebook_cells(py)
    assert [c.kind for c in cells] == [c.cell_type for c in nb.cells]
    assert [c.source.strip() for c in cells] == [c.source.strip() for c in nb.cells]


def test_every_equation_is_explained_in_some_notebook_besides_the_overview():
    mentions = equation_mentions()
    missing = [e.number for e in EQUATIONS if not mentions.get(e.number)]
    assert not missing, f"no notebook's Markdown mentions Eq(s). {missing} (the overview does not count)"
    assert all(stem != "00_overview" for hits in mentions.values() for stem, _ in hits)


def test_the_map_names_where_each_equation_is_stated_and_its_code_shown():
    table = equation_map()
    assert list(table["Eq."]) == list(range(1, 11))
    mentions = equation_mentions()
    for _, row in table.iterrows():
        assert row["notebook"] != "—" and row["anchor"] == f"eq-{row['Eq.']}", row["Eq."]   # every equation stated
        cells = notebook_cells(NOTEBOOKS / f"{row['notebook']}.py")
        place = teaching.equation_places(cells)[row["Eq."]]
        assert row["Eq."] in _equations_in(place.statement.source) or f"({row['Eq.']})" in place.statement.source
        assert row["section"] and row["section"] in place.statement.heading
        assert row["code cell"].startswith("show_source(") and row["code cell"] in place.code.source
        stating = {p.stem for p in SOURCES if p.stem != "00_overview"
                   and row["Eq."] in teaching.equation_places(notebook_cells(p))}
        others = ({stem for stem, _ in mentions[row["Eq."]]} | stating) - {row["notebook"]}
        assert set(row["also in"].split(", ")) == others or (row["also in"] == "—" and not others)
        file, line = row["source"].rsplit(":", 1)
        assert (REPO / file).is_file() and int(line) > 0
        assert not any(col in table.columns for col in ("cells",))       # no cell numbers: they shift when executed


def test_mentions_follow_the_notebooks(tmp_path):
    (tmp_path / "01_a.py").write_text("# %% [markdown]\n# # A\n# Eq. 3 here.\n\n# %%\nx = 1  # Eq. 4 in code\n\n"
                                      "# %% [markdown]\n# ## B\n# Eqs. 9–10\n")
    (tmp_path / "00_overview.py").write_text("# %% [markdown]\n# Eq. 1\n")
    found = equation_mentions(tmp_path)
    assert sorted(found) == [3, 9, 10]                 # code comments and the overview do not count
    assert [(s, c.index, c.heading) for s, c in found[9]] == [("01_a", 2, "B")]
    table = equation_map(tmp_path).set_index("Eq.")
    # a bare mention, without the formula, states nothing: the map says so instead of pointing at it
    assert table.loc[3, "notebook"] == "—" and table.loc[3, "anchor"] == "" and table.loc[3, "also in"] == "01_a"
    assert table.loc[1, "notebook"] == "—" and table.loc[1, "also in"] == "—"


def test_a_numbered_formula_beats_a_named_mention_and_the_code_cell_is_the_implementation(tmp_path):
    (tmp_path / "01_a.py").write_text(
        "# %% [markdown]\n# # A\n# Mixing (Eq. 7) averages $z$.\n\n"
        "# %%\nfrom smate_nb.model.tokens import mix_tokens\nfrom smate_nb.model.position import tpe_v1\n\n"
        "# %%\nshow_source(tpe_v1)\n\n"
        "# %% [markdown]\n# ## 2 · Mixing (Eq. 7)\n# **The rule.** $$z = \\frac{1}{N+1}\\sum z_i \\qquad (7)$$\n\n"
        "# %%\nshow_source(tpe_v1)\n\n# %%\nshow_source(mix_tokens)\n")
    (tmp_path / "02_b.py").write_text("# %% [markdown]\n# # B\n# $$a \\qquad (7)$$ and Eq. 9: $b$\n")
    table = equation_map(tmp_path).set_index("Eq.")
    assert table.loc[7, "notebook"] == "01_a"              # the first notebook in reading order, at its best
    assert table.loc[7, "section"] == "2 · Mixing"         # the numbered formula, not the earlier mention
    assert table.loc[7, "code cell"] == "show_source(mix_tokens)"     # shows the implementation, not any code
    assert table.loc[7, "also in"] == "02_b"
    assert table.loc[9, "notebook"] == "02_b" and table.loc[9, "code cell"] == "—" and table.loc[9, "code anchor"] == ""
    md = teaching.equation_map_markdown(table.reset_index())
    assert "[01 § 2 · Mixing](01_a.ipynb#eq-7)" in md and "(01_a.ipynb#eq-7-code)" in md
    assert "[`show_source(mix_tokens)`]" in md


def _record(folder: Path, stem: str, seconds: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.json").write_text(json.dumps({"name": stem, "seconds": seconds, "status": "ok"}))


def test_costs_are_read_from_the_report_by_stem_slug_or_former_name(tmp_path):
    executed = tmp_path / "cpu" / "executed"
    _record(executed, "02_preprocessing", 27.5)         # same stem
    _record(executed, "06_cost_by_crop", 61.0)          # renumbered: matched by the name after the number
    _record(executed, "00_data", 13.0)                  # renamed: FORMER_NAMES
    outputs = tmp_path / "cpu" / "outputs"
    outputs.mkdir(parents=True)
    (outputs / "02_preprocessing.json").write_text(json.dumps({"runs": {"trained": 0, "reused": 40}}))
    stems = ["00_overview", "02_preprocessing", "07_cost_by_crop", "09_appendix_data"]
    costs = notebook_costs("cpu", reports_root=tmp_path, notebooks=stems).set_index("notebook")
    assert costs.loc["02_preprocessing", "seconds"] == 27.5
    assert costs.loc["02_preprocessing", "trainings"] == "40 reused"
    assert costs.loc["07_cost_by_crop", "recorded as"] == "06_cost_by_crop"
    assert costs.loc["09_appendix_data", "seconds"] == 13.0
    assert costs.loc["00_overview", "measured"] == "not yet measured"
    assert costs.loc["00_overview", "trainings"] == "—"
    assert costs.loc["00_overview", "seconds"] is None or costs["seconds"].isna()["00_overview"]
    assert costs.loc["07_cost_by_crop", "trainings"] == "not recorded"


def test_costs_of_a_profile_without_a_report_are_not_measured(tmp_path):
    costs = notebook_costs("paper", reports_root=tmp_path, notebooks=["01_model_walkthrough", "02_preprocessing"])
    assert list(costs["measured"]) == ["not yet measured"] * 2
    # nothing measured: still a float column the overview can round (an all-None column could not be)
    assert costs["seconds"].round(1).isna().all()


def test_the_committed_cpu_report_is_readable():
    costs = notebook_costs("cpu")
    assert len(costs) == len(list(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")))
    measured = costs[costs["measured"] == "yes"]
    assert (measured["seconds"] > 0).all()


def test_show_source_and_source_of_are_unchanged_api():
    assert "show_source" in teaching.__all__ and "source_of" in teaching.__all__
    assert list(inspect.signature(source_of).parameters) == ["obj", "docstring", "start"]
