"""The SMaTE model: tokens (Eqs. 6–7), positions (Eqs. 9–10), ViViT-FE (Eqs. 3–5, 8)."""
from .position import tpe, tpe_v1, tpe_v2, LearnedPositionEmbedding, FixedTemporalEncoding, TEMPORAL_POSITIONS
from .tokens import TubeletEmbedding, uniform_frame_embedding, mix_tokens, MixedTokenEmbedding
from .vivit import VIVIT_CONFIGS, ViViTConfig, ViViTFE, EncoderBlock, Encoder, build_vivit

__all__ = [
    "tpe", "tpe_v1", "tpe_v2", "LearnedPositionEmbedding", "FixedTemporalEncoding", "TEMPORAL_POSITIONS",
    "TubeletEmbedding", "uniform_frame_embedding", "mix_tokens", "MixedTokenEmbedding",
    "VIVIT_CONFIGS", "ViViTConfig", "ViViTFE", "EncoderBlock", "Encoder", "build_vivit",
]
