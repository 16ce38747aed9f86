"""The paper's reported numbers (Kim, Cho & Bae, Sensors 2022, 22, 5753), for side-by-side tables.

Accuracies are top-1 (%) as printed. "GFLOPs" are multiply-accumulates ×10⁹
(see :mod:`smate_nb.cost`); parameters are ×10⁶.

Besides the tables: the differences the paper's *text* states (:data:`TEXT_DIFFERENCES`, checked against the tables
by :func:`smate_nb.experiments.summary.text_vs_tables`), the one configuration it reports with two numbers
(:data:`SAME_CONFIGURATION`, :func:`same_configuration_readings`), and the register of every point where it is
silent or inconsistent (:data:`AMBIGUITIES`, each with the section or table it comes from). The text copy the suite
was written from has no page numbers, so sources are sections (§) and tables.
"""
from __future__ import annotations

__all__ = ["TABLE1", "TABLE2", "TABLE3", "TABLE4", "TABLE5", "TABLE6", "TABLES", "DATASETS", "delta",
           "SAME_CONFIGURATION", "same_configuration_readings", "TEXT_DIFFERENCES", "AMBIGUITIES"]

#: Table 1 — ViViT-B/16x2 FE baseline: 25 frames, 224², tubelet 2×16×16.
TABLE1 = {"method": "ViViT-B/16x2 FE", "ckplus": 42.42, "afew": 37.22, "gflops": 213.93, "params_m": 171.45,
          "num_frames": 25, "image_size": 224}

#: Table 2 — position information (top-1 %).
TABLE2 = {"BERT": {"ckplus": 42.42, "afew": 34.99},
          "TPE-V1": {"ckplus": 43.18, "afew": 36.66},
          "TPE-V2": {"ckplus": 43.93, "afew": 39.44}}

#: Table 3 — progressive preprocessing, BERT-based (each row adds to the previous).
TABLE3 = {"Original": {"ckplus": 42.42, "afew": 34.99},
          "LBP": {"ckplus": 54.95, "afew": 37.22},
          "Crop, flip, rotate, color jitter": {"ckplus": 91.97, "afew": 38.33},
          "Mixed-token embedding": {"ckplus": 98.39, "afew": 38.88}}

#: Table 4 — progressive preprocessing, TPE-v2-based.
TABLE4 = {"Original": {"ckplus": 43.93, "afew": 37.22},
          "LBP": {"ckplus": 63.35, "afew": 39.71},
          "Crop, flip, rotate, color jitter": {"ckplus": 95.38, "afew": 40.83},
          "Mixed-token embedding": {"ckplus": 99.19, "afew": 41.38}}

#: Table 5 — cost by crop size: 16 frames, stride 2, RTX A6000 (training steps per minute).
TABLE5 = {"num_frames": 16, "stride": 2,
          "crop": [64, 128, 224, 320],
          "gflops": [12.5, 46.3, 142.6, 301.8],
          "steps_per_min": [23.5, 22.6, 20.3, 17.3]}

#: Table 6 — comparison with the state of the art (top-1 %; None = not reported).
TABLE6 = {"DeepEmotion": {"ckplus": 98.0, "afew": None},
          "HMTL": {"ckplus": 98.23, "afew": None},
          "C3D": {"ckplus": None, "afew": 39.69},
          "SMaTE (TPE-v2)": {"ckplus": 99.19, "afew": 41.38}}

#: The accuracy tables by the paper's names, for :func:`delta` and the text checks (Table 6: ``None`` = not reported).
TABLES = {"Table 2": TABLE2, "Table 3": TABLE3, "Table 4": TABLE4, "Table 6": TABLE6}
#: Dataset keys of the tables → the paper's names.
DATASETS = {"ckplus": "CK+", "afew": "AFEW"}
_AUG, _MIX = "Crop, flip, rotate, color jitter", "Mixed-token embedding"


def delta(table: str, row: str, ref: str, dataset: str, tables: dict | None = None) -> float:
    """``row − ref`` of ``table`` (a key of :data:`TABLES`) on ``dataset`` (``ckplus`` | ``afew``), in points,
    rounded to the tables' 0.01. ``tables``: a copy of :data:`TABLES` with cells replaced (default: as printed)."""
    t = (tables or TABLES)[table]
    return round(t[row][dataset] - t[ref][dataset], 2)


#: One configuration the paper reports twice: Table 2's TPE-V2 row (TPE-v2 on the original clips — Table 2's BERT
#: row is Table 3's Original row on both datasets, so Table 2 adds no preprocessing) and Table 4's Original row (the
#: TPE-v2 model before any preprocessing step, §4.2). Equal on CK+ (43.93), not on AFEW (39.44 vs 37.22).
SAME_CONFIGURATION = (("Table 2", "TPE-V2"), ("Table 4", "Original"))

#: The paper's differences that one of the two numbers enters: (label, table, row, reference row). Table 4's
#: augmentation and mixed-token steps do not involve the Original row; they are kept to show that they do not move.
_SAME_CONFIGURATION_COMPARISONS = (("TPE-v2 − BERT", "Table 2", "TPE-V2", "BERT"),
                                   ("TPE-v2 − TPE-v1", "Table 2", "TPE-V2", "TPE-V1"),
                                   ("+ LBP (TPE-v2)", "Table 4", "LBP", "Original"),
                                   ("+ augmentation (TPE-v2)", "Table 4", _AUG, "LBP"),
                                   ("+ mixed tokens (TPE-v2)", "Table 4", _MIX, _AUG),
                                   ("all three steps (TPE-v2)", "Table 4", _MIX, "Original"))


def _with_value(dataset: str, value: float) -> dict:
    """A copy of :data:`TABLES` with both cells of :data:`SAME_CONFIGURATION` on ``dataset`` set to ``value``."""
    out = {name: {row: dict(cells) for row, cells in t.items()} for name, t in TABLES.items()}
    for table, row in SAME_CONFIGURATION:
        out[table][row][dataset] = value
    return out


def same_configuration_readings(dataset: str = "afew") -> list[dict[str, object]]:
    """The paper's differences computed with each of its two numbers for :data:`SAME_CONFIGURATION`.

    Returns one dict per comparison: ``comparison``, ``cells`` (``"Table 4: LBP − Original"``) and one key per
    number, ``"with <value> (<table> <row>)"`` → the difference in points (both cells of the configuration set to
    that value). The last row is LBP's gain with TPE-v2 (Table 4) minus its gain with BERT (Table 3): §4.2 says the
    gain is "larger … in the TPE-v2-based model" (its ``the text says``; the stated differences are matched by
    :func:`smate_nb.experiments.summary.same_configuration_table`).
    """
    readings = {f"with {TABLES[t][r][dataset]:.2f} ({t} {r})": _with_value(dataset, TABLES[t][r][dataset])
                for t, r in SAME_CONFIGURATION}
    rows: list[dict[str, object]] = []
    for label, table, row, ref in _SAME_CONFIGURATION_COMPARISONS:
        rows.append({"comparison": label, "cells": f"{table}: {row} − {ref}",
                     **{k: delta(table, row, ref, dataset, v) for k, v in readings.items()}})
    rows.append({"comparison": "LBP's gain, TPE-v2 − BERT",
                 "cells": "(Table 4: LBP − Original) − (Table 3: LBP − Original)",
                 **{k: round(delta("Table 4", "LBP", "Original", dataset, v)
                             - delta("Table 3", "LBP", "Original", dataset, v), 2) for k, v in readings.items()},
                 "the text says": "> 0 (§4.2: \"a larger performance improvement … in the TPE-v2-based model\")"})
    return rows


#: Differences the paper's text states, each with the cells its words name — (table, row, reference row, dataset),
#: read as written — and its section. :func:`smate_nb.experiments.summary.text_vs_tables` checks each against the
#: tables and, where they disagree, finds the cells that give the stated number.
TEXT_DIFFERENCES: list[dict[str, object]] = [
    {"id": "tpe_v2_vs_bert_ck", "source": "§4.2, Position information variants", "value": 1.51,
     "words": "TPE-v2 improved the accuracy of BERT by 1.51% on CK+", "cells": ("Table 2", "TPE-V2", "BERT", "ckplus")},
    {"id": "tpe_v2_vs_bert_afew", "source": "§4.2, Position information variants", "value": 4.45,
     "words": "… and 4.45% on AFEW", "cells": ("Table 2", "TPE-V2", "BERT", "afew")},
    {"id": "tpe_v2_vs_v1_ck", "source": "§4.2, Position information variants", "value": 0.75,
     "words": "and showed better performance than the TPE-v2 (0.75 % on CK+",
     "cells": ("Table 2", "TPE-V2", "TPE-V2", "ckplus")},
    {"id": "tpe_v2_vs_v1_afew", "source": "§4.2, Position information variants", "value": 2.78,
     "words": "… and 2.78 % on AFEW)", "cells": ("Table 2", "TPE-V2", "TPE-V2", "afew")},
    {"id": "lbp_tpe_v2_ck", "source": "§4.2, Progressive data augmentation", "value": 19.43,
     "words": "LBP … shows a larger performance improvement, of 19.43 % on CK+ … in the TPE-v2-based model",
     "cells": ("Table 4", "LBP", "Original", "ckplus")},
    {"id": "lbp_tpe_v2_afew", "source": "§4.2, Progressive data augmentation", "value": 2.49,
     "words": "… and 2.49 % on AFEW, in the TPE-v2-based model", "cells": ("Table 4", "LBP", "Original", "afew")},
    {"id": "aug_bert_ck", "source": "§4.2, Progressive data augmentation", "value": 32.02,
     "words": "Data augmentation … with accuracy increases of 32.02% for BERT",
     "cells": ("Table 3", _AUG, "LBP", "ckplus")},
    {"id": "aug_tpe_v2_ck", "source": "§4.2, Progressive data augmentation", "value": 37.02,
     "words": "… and 37.02 % for TPE-v2 on CK+ datasets", "cells": ("Table 4", _AUG, "LBP", "ckplus")},
    {"id": "smate_vs_c3d_afew", "source": "§4.3", "value": 1.69,
     "words": "the proposed method shows about 1.69% higher accuracy than image-sequence-based [34]",
     "cells": ("Table 6", "SMaTE (TPE-v2)", "C3D", "afew")},
]
_SAID = {d["id"]: d["value"] for d in TEXT_DIFFERENCES}


_MODEL_OF = {"Table 2": "", "Table 3": " (BERT)", "Table 4": " (TPE-v2)"}


def _cells_equal(value: float, dataset: str) -> str:
    """The cells of Tables 2–4 on ``dataset`` printed as ``value``, named ``"Table 4 (TPE-v2) Original"``."""
    return ", ".join(f"{name}{_MODEL_OF[name]} {row}" for name, t in TABLES.items() if name in _MODEL_OF
                     for row, cells in t.items() if cells.get(dataset) == value)


def _same_configuration_text() -> str:
    """The register's wording of :data:`SAME_CONFIGURATION`, every number computed from the tables."""
    (t2, r2), (t4, r4) = SAME_CONFIGURATION
    rows = {r["comparison"]: list(r.values())[2:4] for r in same_configuration_readings("afew")}
    a, b = TABLES[t2][r2]["afew"], TABLES[t4][r4]["afew"]
    flips = [k for k, (x, y) in rows.items() if (x > 0) != (y > 0)]
    return (f"TPE-v2 on the original clips is {t2}'s {r2} row and {t4}'s {r4} row — "
            f"{TABLES[t2][r2]['ckplus']:.2f} % on CK+ in both, but {a:.2f} % ({t2}) and {b:.2f} % ({t4}) on AFEW. "
            f"The paper's AFEW Δs with {a:.2f} / with {b:.2f}: "
            + "; ".join(f"{k} {x:+.2f} / {y:+.2f}" for k, (x, y) in rows.items())
            + f". The text uses both: Table 2's gains (+{_SAID['tpe_v2_vs_bert_afew']:.2f} over BERT, "
            f"+{_SAID['tpe_v2_vs_v1_afew']:.2f} over TPE-v1) need {a:.2f}; Table 4's LBP gain "
            f"(+{_SAID['lbp_tpe_v2_afew']:.2f}, \"larger … than the BERT-based model\") needs {b:.2f}"
            + (". Every Δ keeps its sign both ways except: " + ", ".join(flips) if flips else
               ". Every Δ keeps its sign both ways"))


#: Where the paper is silent or inconsistent: the point, its ``source`` in the paper (section § or table), what the
#: paper says, the choice made here, the parameter that switches it, and the tables (``<notebook>__<name>``, one or
#: a tuple) where it was measured — or None where it was not (an inconsistency of the paper's own numbers).
AMBIGUITIES: list[dict[str, object]] = [
    {"point": "How a TPE value enters the model", "source": "§3.2.3 (Temporal Positional Encoding), Eqs. 8–10",
     "paper": "\"TPE is a fixed encoding that represents a position value rather than an embedding with learnable "
     "parameters\"; no formula for how it is combined with the tokens",
     "choice": "four readings (ours, not the paper's); the literal one — one scalar added to every channel — is erased "
     "by LayerNorm: proved, and measured against no temporal position; the reading that stands for TPE is chosen on "
     "the calibration fold", "parameter": "ViViTConfig.tpe_mode",
     "measured": ("04_position_encodings__literal_reading_vs_none", "04_position_encodings__tpe_readings_paired")},
    {"point": "α of Eqs. 9–10", "source": "§3.2.3, Eqs. 9–10", "paper": "not given",
     "choice": "chosen on the calibration fold per encoding", "parameter": "ViViTConfig.tpe_alpha",
     "measured": ("04_position_encodings__alpha", "04_position_encodings__alpha_paired")},
    {"point": "Eq. 10's range", "source": "§3.2.3, Eq. 10",
     "paper": "\"All values were normalized to L such that they were located between [0, 1]\", but pos^α/L leaves "
     "[0, 1] for α > 1", "choice": "printed form by default; (pos/L)^α offered and calibrated",
     "parameter": "ViViTConfig.tpe_normalized",
     "measured": ("04_position_encodings__alpha", "04_position_encodings__alpha_paired")},
    {"point": "Whether the temporal CLS token takes a position", "source": "§3.2.3 (definition of L), §3.2.4",
     "paper": "L = the maximum length of the token sequence output by the spatial encoder (CLS not counted)",
     "choice": "learned table: yes (official ViViT, n_t + 1 rows); TPE: no",
     "parameter": "ViViTConfig.temporal_cls_position", "measured": None},
    {"point": "How LBP enters a row without mixed tokens", "source": "§3.1.3, §3.2.2; Tables 3–4 (LBP row)",
     "paper": "not stated; with mixing it is one more view",
     "choice": "a training clip is replaced by its LBP image with probability 0.5 (\"input\": always LBP)",
     "parameter": "PreprocSpec.lbp_mode, lbp_prob", "measured": None},
    {"point": "p and N of Eq. 7, and its ⊕", "source": "§3.2.2, Eq. 7", "paper": "not given; \"Subsets were randomly "
     "sampled\"", "choice": "per-sample Bernoulli(0.5) average of the original and N = 2 augmented views (+ LBP)",
     "parameter": "PreprocSpec.mix_prob, n_views", "measured": None},
    {"point": "Whether z_origin of Eq. 7 is the original or an augmented clip in a row that also augments",
     "source": "§3.2.2, Eq. 7; Tables 3–4 (the mixed-token row follows the augmentation row)",
     "paper": "\"z_data … where data implies original data or augmented data\"; \"z_mix is defined as original data "
     "token or data with augmented data mixed according to X\"; the tables add mixing on top of augmentation without "
     "saying whether the origin stays augmented",
     "choice": "the original clip (the test transform): augmentation enters through the N views of Eq. 7 (until "
     "2026-12-07: an augmented clip)", "parameter": "PreprocSpec.mix_origin (budget mix_origin)",
     "measured": "calibration fold, from the stand-in, 30 epochs at lr 1e-4: the mixed row fitted 85 % of its "
     "training clips with the original origin, 47 % with an augmented one (test 75 vs 43 %)"},
    {"point": "Temporal depth of ViViT-B/16x2 FE", "source": "§4 (\"the number of transformer layers L was 12\"); "
     "Table 1 (171.45 M)", "paper": "171.45 M parameters = 12 spatial + 12 temporal layers (official ViViT-B FE "
     "has 4 temporal layers, ≈ 115 M)", "choice": "12 + 12", "parameter": "ViViTConfig.temporal_depth",
     "measured": "01_model_walkthrough__table1_cost"},
    {"point": "Which temporal position Table 1's baseline used", "source": "§4.2 (first paragraph; \"ViViT-B/16 × 2 "
     "FE/BERT (baseline)\" in Position information variants); Tables 1–4",
     "paper": f"not stated. Its CK+ {TABLE1['ckplus']:.2f} % is BERT's ({_cells_equal(TABLE1['ckplus'], 'ckplus')}), "
     f"but its AFEW {TABLE1['afew']:.2f} % is not BERT's {TABLE2['BERT']['afew']:.2f} %: it equals "
     f"{_cells_equal(TABLE1['afew'], 'afew')}. Its {TABLE1['params_m']} M parameters: compare our counts with and "
     "without a learned temporal table (what we measured)",
     "choice": "the baseline is the ablations' learned / Original row (§4.2 calls BERT the baseline); both of our "
     "parameter counts, with and without the learned table, are scored against Table 1 within the stated tolerance",
     "parameter": "—", "measured": ("01_model_walkthrough__table1_cost", "06_comparison__table1")},
    {"point": "TPE-v2 / Original on AFEW: one configuration, two numbers", "source": "§4.2; Table 2 (TPE-V2 row), "
     "Table 4 (Original row)", "paper": _same_configuration_text(),
     "choice": "each table as printed: a paired table's \"paper Δ\" is computed within its own table (Table 2's from "
     f"{TABLE2['TPE-V2']['afew']:.2f}, Table 4's from {TABLE4['Original']['afew']:.2f}); notebook 08 shows both "
     "readings", "parameter": "—", "measured": None},
    {"point": "§4.2's augmentation gains on CK+: BERT's and TPE-v2's swapped", "source": "§4.2, Progressive data "
     "augmentation; Tables 3–4", "paper": f"text: \"accuracy increases of {_SAID['aug_bert_ck']:.2f}% for BERT and "
     f"{_SAID['aug_tpe_v2_ck']:.2f} % for TPE-v2 on CK+\"; tables: BERT {delta('Table 3', _AUG, 'LBP', 'ckplus'):+.2f} "
     f"(Table 3, {TABLE3['LBP']['ckplus']:.2f} → {TABLE3[_AUG]['ckplus']:.2f}), TPE-v2 "
     f"{delta('Table 4', _AUG, 'LBP', 'ckplus'):+.2f} (Table 4, {TABLE4['LBP']['ckplus']:.2f} → "
     f"{TABLE4[_AUG]['ckplus']:.2f}) — the text swaps the two (its 0.01 differences, here and in LBP's "
     f"{_SAID['lbp_tpe_v2_ck']:.2f} against {delta('Table 4', 'LBP', 'Original', 'ckplus'):.2f}, are the rounding of "
     "unrounded accuracies)", "choice": "the tables are the paper's numbers (every \"paper Δ\" is computed from them)",
     "parameter": "—", "measured": None},
    {"point": "\"than the TPE-v2\" in §4.2 means TPE-v1", "source": "§4.2, Position information variants; Table 2",
     "paper": f"\"TPE-v2 … showed better performance than the TPE-v2 ({_SAID['tpe_v2_vs_v1_ck']:.2f} % on CK+ and "
     f"{_SAID['tpe_v2_vs_v1_afew']:.2f} % on AFEW)\": Table 2's TPE-V2 − TPE-V1 "
     f"({TABLE2['TPE-V2']['ckplus']:.2f} − {TABLE2['TPE-V1']['ckplus']:.2f}, {TABLE2['TPE-V2']['afew']:.2f} − "
     f"{TABLE2['TPE-V1']['afew']:.2f}); TPE-v2 against itself is 0",
     "choice": "read as TPE-v1: the claim \"TPE-v2 beats TPE-v1\"", "parameter": "—",
     "measured": "04_position_encodings__table2_paired"},
    {"point": "Kinetics-400 pretraining", "source": "§4.2 (Position information variants)",
     "paper": "ViViT-B/16x2 FE pretrained on Kinetics400", "choice": "weights unavailable offline: a stand-in "
     "pretraining on a separate SynthFER-lab corpus (identities disjoint) with a label-free task — which of its "
     "sequences is this? (exemplar), under crop + flip — chosen on the calibration fold as the start that beats "
     "scratch for both the Original and the augmented row", "parameter": "ModelSpec.init = 'run:<key>'; budget "
     "pretrain_task, pretrain_epochs",
     "measured": "05_progressive_preprocessing__stall"},
    {"point": "Random crop", "source": "§3.1.2, §4.2", "paper": "§3.1.2: \"appropriate reduction thresholds for "
     "cropping should be selected\", then resize; §4.2: \"center and randoms crop of 224×224\" from 256²",
     "choice": "a random square of 0.8–1.0 of the short side, resized (AugmentConfig.crop_scale); (0.875, 0.875) is "
     "the fixed-size reading", "parameter": "PreprocSpec.augment_overrides",
     "measured": "05_progressive_preprocessing__stall"},
    {"point": "Augmentation probabilities and strengths", "source": "§3.1.2",
     "paper": "rotation limited to {2°, 5°, 7°} either side; nothing else",
     "choice": "flip 0.5, rotate 0.5, grey 0.2, else jitter 0.8 (lightness ±0.3, saturation ±0.4, hue ±0.05)",
     "parameter": "AugmentConfig", "measured": None},
    {"point": "Self-attention scale (Eq. 3)", "source": "§3.2.1, Eq. 3", "paper": "softmax(QKᵀ/√D), with D_h = D/k "
     "per head", "choice": "√D_h per head (Transformer, ViT)", "parameter": "—", "measured": None},
    {"point": "\"GFLOPs\"", "source": "Tables 1 and 5", "paper": "Tables 1, 5 print FLOPs / GFLOPs",
     "choice": "read as multiply-accumulates (the values match MAC counts within 0.5 %)", "parameter": "—",
     "measured": "07_cost_by_crop__table5_macs"},
    {"point": "CK+ clip length", "source": "§4.2 (first paragraph), §4.1.1",
     "paper": "25 frames at stride 2 (49 frames) — longer than most CK+ sequences",
     "choice": "short sequences keep the stride and repeat the last (peak) frame; long ones are spread to end on it",
     "parameter": "smate_nb.data.clips.SHORT_POLICY / LONG_POLICY", "measured": None},
    {"point": "The AFEW test set", "source": "§4.1.1 (AFEW)", "paper": "\"extracted 130 samples from the validation "
     "set, balancing between classes\"", "choice": "the largest class-balanced subset of Val up to 130 clips, seeded",
     "parameter": "manifest --test-size", "measured": None},
    {"point": "Optimiser, learning rate, epochs, batch", "source": "§4.1–4.2 (absent)", "paper": "not given",
     "choice": "AdamW, warm-up + cosine, per profile (smate_nb.config)", "parameter": "OptimSpec", "measured": None},
    {"point": "Replicates", "source": "Tables 1–6", "paper": "one number per cell, no spread", "choice": "≥ 5 folds "
     "(lab) and 3 seeds (wild) per cell, paired comparisons", "parameter": "ablations.budget",
     "measured": "04_position_encodings__table2_paired"},
]
