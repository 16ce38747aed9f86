"""smate_nb.params: every parameter type, the conversions it allows, and the error message (name, value, both fixes)."""
from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from smate_nb import params as P
from smate_nb.params import ParameterError, check, validate


def convert(param: P.Param, value, ctx=None):
    return param.convert(value, ctx or {})


def refused(param: P.Param, value, ctx=None) -> bool:
    try:
        param.convert(value, ctx or {})
    except P._Invalid:
        return True
    return False


def error_of(notebook: str, values: dict) -> ParameterError:
    with pytest.raises(ParameterError) as info:
        validate(notebook, values)
    return info.value


def assert_full_message(message: str, name: str, value) -> None:
    """The message names the parameter, shows the value (repr + type) and both ways to pass it."""
    assert f"`{name}`" in message
    assert f"{value!r} ({type(value).__name__})" in message
    assert "papermill notebooks/" in message
    assert "python -m smate_nb run --only " in message and "--param " in message


# --- scalar types ------------------------------------------------------------------------------------------------

def test_int_converts_unambiguous_values_only():
    p = P.Int(min=0, max=10)
    assert convert(p, 3) == 3 and convert(p, "3") == 3 and convert(p, " 7 ") == 7
    assert convert(p, 3.0) == 3 and type(convert(p, 3.0)) is int and convert(p, "4.0") == 4
    np = pytest.importorskip("numpy")
    assert type(convert(p, np.int64(5))) is int
    for bad in (True, False, 3.5, "3.5", "abc", "", None, [3], "nan", float("inf"), -1, 11, "11"):
        assert refused(p, bad), bad


def test_int_range_descriptions():
    assert P.Int().describe({}) == "an int"
    assert P.Int(min=1).describe({}) == "an int ≥ 1"
    assert P.Int(max=3).describe({}) == "an int ≤ 3"
    assert P.Int(min=0, max=9).describe({}) == "an int in [0, 9]"


def test_float_converts_numbers_and_numeric_text():
    p = P.Float(min=0, max=1)
    assert convert(p, 0.5) == 0.5 and convert(p, "0.5") == 0.5 and convert(p, 1) == 1.0
    assert type(convert(p, 1)) is float
    for bad in (True, "abc", None, [0.5], float("nan"), "nan", "inf", -0.1, 1.5):
        assert refused(p, bad), bad
    open_ = P.Float(min=0, max=1, exclusive_min=True, exclusive_max=True)
    assert refused(open_, 0.0) and refused(open_, 1.0) and convert(open_, 0.25) == 0.25
    assert P.Float(min=0, max=1, exclusive_max=True).describe({}) == "a finite number ≥ 0 and < 1"


def test_alpha_is_finite_positive_at_most_ten():
    a = P.Alpha()
    assert convert(a, 1.0) == 1.0 and convert(a, 10) == 10.0 and convert(a, "0.5") == 0.5 and convert(a, 1e-3) == 1e-3
    for bad in (0, 0.0, -1.0, 10.5, math.inf, math.nan, "abc", True):
        assert refused(a, bad), bad
    assert "> 0" in a.describe({}) and "≤ 10" in a.describe({})


def test_bool_converts_true_false_text_and_zero_one():
    b = P.Bool()
    assert convert(b, True) is True and convert(b, False) is False
    for text in ("true", "True", "TRUE", "yes", "on", "1"):
        assert convert(b, text) is True, text
    for text in ("false", "False", "no", "off", "0"):
        assert convert(b, text) is False, text
    assert convert(b, 1) is True and convert(b, 0) is False
    for bad in ("maybe", 2, -1, 0.5, None, [], "tru"):
        assert refused(b, bad), bad


def test_str_choices_pattern_and_lazy_choices():
    s = P.Str(("dlib", "haar", "auto"))
    assert convert(s, "haar") == "haar"
    for bad in ("Haar", "hog", 3, None, ["haar"]):
        assert refused(s, bad), bad
    with pytest.raises(P._Invalid, match="did you mean 'haar'"):
        convert(s, "harr")
    dev = P.Str(("auto", "cpu", "cuda"), pattern=r"cuda:\d+")
    assert convert(dev, "cuda:1") == "cuda:1" and refused(dev, "cuda:x") and refused(dev, "gpu")
    calls = []
    lazy = P.Str(lambda: calls.append(1) or ["a", "b"])
    assert calls == [] and convert(lazy, "b") == "b" and calls == [1]
    assert convert(P.Str(), "anything") == "anything" and refused(P.Str(), 1)


def test_path_str():
    p = P.PathStr()
    assert convert(p, "reports") == "reports"
    path = Path("/tmp/x")
    assert convert(p, path) is path
    for bad in ("", "  ", 3, None):
        assert refused(p, bad), bad


def test_optional_takes_none_and_none_text_unless_the_inner_type_is_text():
    o = P.Optional(P.Int(min=1), none_means="the default")
    assert convert(o, None) is None and convert(o, "None") is None and convert(o, "null") is None
    assert convert(o, "3") == 3 and refused(o, 0) and refused(o, "abc")
    assert o.describe({}).startswith("None (→ the default) or an int")
    # a string parameter keeps the text "None" (and then refuses it when it is not a choice)
    assert refused(P.Optional(P.Str(("a", "b"))), "None")
    assert convert(P.Optional(P.PathStr()), "None") == "None"


# --- containers --------------------------------------------------------------------------------------------------

def test_list_refuses_any_string_even_a_list_literal():
    p = P.ListOf(P.Int(min=0), min_len=1)
    for text in ("[0]", "[0, 1]", "0", "0,1", ""):
        with pytest.raises(P._Invalid) as info:
            convert(p, text)
        assert "-y" in info.value.note and "papermill" in info.value.note


def test_list_items_lengths_unique_and_container_type():
    p = P.ListOf(P.Int(min=0), min_len=1, max_len=3, unique=True)
    assert convert(p, [0, 1]) == [0, 1]
    assert convert(p, ["0", 1.0]) == [0, 1] and type(convert(p, ["0"])) is list
    t = convert(p, (1, "2"))
    assert t == (1, 2) and type(t) is tuple  # a tuple stays a tuple
    for bad in ([], [0, 1, 2, 3], [0, 0], [-1], ["a"], 3, None, {0: 1}):
        assert refused(p, bad), bad
    with pytest.raises(P._Invalid, match=r"item \[1\] = 'x' \(str\)"):
        convert(p, [0, "x"])
    assert "exactly 3 items" in P.ListOf(P.Int(), min_len=3, max_len=3).describe({})


def test_valid_values_come_back_as_the_same_object():
    lst, tup, dct = [0, 1], (0.3, 0.8), {"a": 0.5}
    assert convert(P.ListOf(P.Int()), lst) is lst
    assert convert(P.ListOf(P.Float()), tup) is tup
    assert convert(P.DictOf(P.Str(), P.Float()), dct) is dct
    knobs = {"resting_offset": 1.5, "peak_intensity": (0.3, 0.8)}
    assert validate("appearance_bias", {"synthfer_knobs": knobs})["synthfer_knobs"] is knobs


def test_dict_of():
    p = P.DictOf(P.Str(), P.Float(min=0, max=1), min_len=1)
    assert convert(p, {"a": "0.5"}) == {"a": 0.5}
    for bad in ("{'a': 0.5}", {}, {"a": 2.0}, {1: 0.5}, ["a"], None):
        assert refused(p, bad), bad
    with pytest.raises(P._Invalid, match=r"value \['a'\] = 2.0 \(float\)"):
        convert(p, {"a": 2.0})
    with pytest.raises(P._Invalid) as info:
        convert(p, "{'a': 0.5}")
    assert "-y" in info.value.note


def test_anything():
    obj = object()
    assert convert(P.Anything(), obj) is obj


# --- domain types ------------------------------------------------------------------------------------------------

def test_profile_names_come_from_config():
    from smate_nb.config import PROFILES

    p = P.Profile()
    for name in PROFILES:
        assert convert(p, name) == name
    assert refused(p, "laptop") and refused(p, 1)


def test_profile_folds_reads_the_fold_count_defensively():
    from smate_nb.config import PROFILES

    for name in PROFILES:
        k = P.profile_folds(name)
        assert isinstance(k, int) and k >= 1
    assert P.profile_folds("no-such-profile") is None and P.profile_folds(None) is None


def test_fold_list_is_range_checked_against_the_profile():
    f = P.FoldList()
    k = P.profile_folds("smoke")
    assert convert(f, list(range(k)), {"profile": "smoke"}) == list(range(k))
    with pytest.raises(P._Invalid, match=f"fold {k} does not exist"):
        convert(f, [k], {"profile": "smoke"})
    assert convert(f, [k + 5], {}) == [k + 5]  # unknown profile: only i ≥ 0
    for bad in ([], [0, 0], [-1], "[0]", 0):
        assert refused(f, bad, {"profile": "smoke"}), bad
    assert f"[0, {k - 1}]" in f.describe({"profile": "smoke"})


def test_seed_list():
    s = P.SeedList()
    assert convert(s, [0, 1, 2]) == [0, 1, 2]
    for bad in ([], [-1], [0, 0], [0.5], "0", 0):
        assert refused(s, bad), bad
    assert convert(P.Seed(), "7") == 7 and refused(P.Seed(), -1)


def test_model_names():
    from smate_nb.model.framecnn import FRAMECNN_CONFIGS
    from smate_nb.model.vivit import VIVIT_CONFIGS

    any_model = P.ModelName(extra=("auto", "vivit"))
    for name in [*VIVIT_CONFIGS, *FRAMECNN_CONFIGS, "auto", "vivit"]:
        assert convert(any_model, name) == name
    vivit_only = P.ModelName(framecnn=False)
    assert all(refused(vivit_only, n) for n in FRAMECNN_CONFIGS) and refused(vivit_only, "auto")
    assert refused(any_model, "resnet50")


# --- validate / check --------------------------------------------------------------------------------------------

def test_the_papermill_p_mistake_names_the_parameter_value_and_both_fixes():
    err = error_of("03_appearance_bias", {"profile": "cpu", "folds": "[0]"})
    msg = str(err)
    assert err.names == ["folds"] and err.notebook == "03_appearance_bias"
    assert_full_message(msg, "folds", "[0]")
    assert "notebooks/03_appearance_bias.ipynb" in msg
    assert '-y "folds: [0]"' in msg                       # the user's own value, as YAML
    assert '--param "folds=[0]"' in msg                   # and for the runner
    assert "a string is not a list" in msg


def test_scalar_fix_uses_p_and_the_runner():
    msg = str(error_of("02_preprocessing", {"seed": "abc"}))
    assert_full_message(msg, "seed", "abc")
    assert "-p seed 0" in msg and '--param "seed=0"' in msg and "expected an int ≥ 0" in msg


def test_string_fix_uses_raw_when_papermill_would_convert_the_text():
    hint = P._fix_hint("appearance_bias", "x", P.Str(("3", "a")), "3")
    assert "-r x 3" in hint and "--param \"x='3'\"" in hint
    hint = P._fix_hint("appearance_bias", "x", P.Str(("a b",)), "a b")
    assert "-p x \"a b\"" in hint


def test_dict_fix_is_shell_quoted_yaml():
    msg = str(error_of("appearance_bias", {"synthfer_knobs": "resting_offset=2"}))
    assert_full_message(msg, "synthfer_knobs", "resting_offset=2")
    assert "-y 'synthfer_knobs: {\"resting_offset\": 1.5" in msg
    assert "a string is not a dict" in msg


def test_optional_parameters_say_how_to_pass_none():
    msg = str(error_of("appearance_bias", {"epochs": "many"}))
    assert_full_message(msg, "epochs", "many")
    assert "-p epochs None" in msg and "--param epochs=None" in msg


def test_every_problem_in_one_error():
    err = error_of("cost_by_crop", {"crops": 64, "device": "gpu", "compile_model": "maybe", "typo_name": 1})
    assert err.names == ["crops", "device", "compile_model", "typo_name"]
    msg = str(err)
    assert "4 wrong parameters" in msg and "did you mean 'cpu'" in msg
    assert "unknown parameter `typo_name`" in msg


def test_unknown_names_list_the_notebooks_parameters():
    msg = str(error_of("model_walkthrough", {"toy_sed": 1}))
    assert "unknown parameter `toy_sed`" in msg and "did you mean `toy_seed`" in msg
    for name in P.SPECS["model_walkthrough"]:
        assert name in msg


def test_a_notebook_without_a_spec_is_an_error():
    for notebook in ("99_no_such_notebook", "no_such_notebook"):
        with pytest.raises(ParameterError, match="has no parameter spec") as info:
            validate(notebook, {})
        assert "smate_nb/params.py" in str(info.value)
        with pytest.raises(ParameterError, match="has no parameter spec"):
            check({}, notebook)


def test_stem_slug_and_path_name_the_same_spec():
    assert P.slug_of("03_appearance_bias") == P.slug_of("appearance_bias") == "appearance_bias"
    assert P.slug_of("notebooks/03_appearance_bias.ipynb") == "appearance_bias"
    assert P.spec_for("03_appearance_bias") is P.spec_for("appearance_bias")


def test_validate_converts_and_orders_profile_first():
    out = validate("appearance_bias", {"folds": [0, 1], "profile": "cpu", "epochs": "3", "retrain": "true",
                                       "seeds": None, "clip_frames": "None"})
    assert out == {"folds": [0, 1], "profile": "cpu", "epochs": 3, "retrain": True, "seeds": None, "clip_frames": None}
    # the fold range follows the profile given, wherever it appears
    k = P.profile_folds("smoke")
    with pytest.raises(ParameterError, match=f"fold {k} does not exist"):
        validate("appearance_bias", {"folds": [k], "profile": "smoke"})
    # a wrong profile is reported; folds are then only checked for i ≥ 0
    err = error_of("appearance_bias", {"profile": "laptop", "folds": [7]})
    assert err.names == ["profile"]


def test_check_writes_converted_values_back_and_ignores_other_globals():
    ns = {"profile": "smoke", "reports_root": None, "seed": "3", "face_backend": "haar", "np": object(),
          "_private": 1}
    out = check(ns, "02_preprocessing")
    assert out == {"profile": "smoke", "reports_root": None, "seed": 3, "face_backend": "haar"}
    assert ns["seed"] == 3 and "np" in ns
    with pytest.raises(ParameterError) as info:
        check({"profile": "smoke", "seed": -1}, "02_preprocessing")
    assert info.value.names == ["seed"]


def test_every_spec_has_profile_and_reports_root_first():
    for slug, spec in P.SPECS.items():
        assert list(spec)[:2] == ["profile", "reports_root"], slug
        assert validate(slug, {"reports_root": None, "profile": "smoke"}) == {"reports_root": None, "profile": "smoke"}


def test_every_type_has_a_valid_example_and_refuses_its_bad_example():
    """The examples shown in hints are valid; bad_example (used by test_params_notebooks) is refused."""
    for slug, spec in P.SPECS.items():
        ctx = {"profile": "smoke"}
        for name, param in spec.items():
            example = param.example(ctx)
            assert param.convert(example, ctx) == example, (slug, name, example)
            bad = param.bad_example()
            if bad is not P._MISSING:
                assert refused(param, bad, ctx), (slug, name, bad)


def test_long_values_are_shortened_in_the_message():
    msg = str(error_of("cost_by_crop", {"crops": "x" * 1000}))
    assert len(msg) < 2000 and re.search(r"'x+ …", msg)


# --- the exercises' switches (notebooks 04–06) -------------------------------------------------------------------

def test_augment_overrides_are_checked_by_building_the_augment_config():
    p = P.AugmentOverrides()
    ok = {"crop_scale": [0.875, 0.875], "flip_p": 0.0, "angles": [2.0]}
    assert convert(p, ok) is ok and convert(p, {}) == {}
    assert convert(p, p.example({})) == p.example({})
    for bad in ({"crop_scale": [0.9, 0.5]}, {"crop_scale": "abc"}, {"flip_p": 1.5}, {"size": 64}, {"no_such": 1},
                {"fill": "mirror"}, '{"crop_scale": [0.9, 0.9]}', [("flip_p", 0.0)]):
        assert refused(p, bad), bad
    with pytest.raises(P._Invalid, match="crop_scale must satisfy"):
        convert(p, {"crop_scale": [0.9, 0.5]})
    with pytest.raises(P._Invalid, match="'no_such' is not a valid choice"):
        convert(p, {"no_such": 1})
    assert "crop_scale" in p.describe({}) and "size" not in p.describe({}).split("(")[1]


@pytest.mark.parametrize("notebook, good, bad", [
    ("position_encodings", {"tpe_mode": "broadcast"}, {"tpe_mode": "literal"}),
    ("progressive_preprocessing", {"lbp_mode": "input", "n_views": 4, "augment_overrides": {"flip_p": 0.0}},
     {"lbp_mode": "sometimes", "n_views": 0, "augment_overrides": {"jitter_p": 2}}),
    ("comparison", {"scratch_families": ["C3D", "frame CNN"], "shuffle_test_frames": True},
     {"scratch_families": ["ResNet"], "shuffle_test_frames": "maybe"}),
])
def test_the_exercise_switches_are_validated(notebook, good, bad):
    assert validate(notebook, {"profile": "cpu", **good}) == {"profile": "cpu", **good}
    err = error_of(notebook, {"profile": "cpu", **bad})
    assert err.names == [n for n in P.SPECS[notebook] if n in bad]          # every wrong switch, in spec order
    assert refused(P.SPECS["comparison"]["scratch_families"], ["C3D", "C3D"])        # no repeats


def test_the_exercise_switches_at_their_defaults_change_no_run():
    """Notebook 05 passes lbp_mode="replace", n_views=None and (augment_overrides {} →) None to the study: the same
    runs, the same keys, as without them; a switch that is set changes the rows' keys."""
    from smate_nb.experiments import ablations

    choices = {"tpe_mode": "direction", "tpe_v1_alpha": 1.0, "tpe_v1_normalized": False, "tpe_v2_alpha": 0.5,
               "tpe_v2_normalized": True, "epochs": 1, "augment_overrides": ()}
    keys = lambda st: [r.config.key() for r in st.runs]  # noqa: E731
    plain = keys(ablations.preprocessing_study("smoke", choices))
    assert keys(ablations.preprocessing_study("smoke", choices, lbp_mode="replace", n_views=None,
                                              augment_overrides=None)) == plain
    assert keys(ablations.preprocessing_study("smoke", choices, lbp_mode="input")) != plain
