"""smate-nb: an executable notebook suite re-implementing SMaTE (Kim, Cho & Bae, Sensors 2022).

Sub-packages: :mod:`smate_nb.model` (tokens, position encodings, ViViT-FE),
:mod:`smate_nb.data` (SynthFER, manifests, clips), :mod:`smate_nb.preprocess`
(faces, augmentation, LBP); modules :mod:`smate_nb.config` (profiles),
:mod:`smate_nb.cost` (params / MACs), :mod:`smate_nb.suite` (papermill runner).
"""
__version__ = "0.1.0"
