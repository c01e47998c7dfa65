"""Building small random transformers UperNets and their upernet_mm
conversions for the interop tests."""
import torch

from helpers import load_tool
from upernet_mm.benchmark.candidates import randomize


def hf_upernet(backbone_config, seed=0, **head):
    """A random-initialised transformers UperNet in eval mode."""
    from transformers import UperNetConfig, UperNetForSemanticSegmentation
    config = UperNetConfig(backbone_config=backbone_config, **head)
    model = UperNetForSemanticSegmentation(config).eval()
    randomize(model, seed)
    return model


def build_mm(model_cfg):
    """Build an mm model config in the upernet_mm scope, in eval mode."""
    from upernet_mm.apis import build_segmentor
    return build_segmentor(model_cfg).eval()


def convert(hf_model):
    """The mm model config, state dict and built model of an HF UperNet."""
    from upernet_mm.converters import hf_state_to_mm, hf_to_mm_model
    model_cfg = hf_to_mm_model(hf_model.config.to_dict(), 'test config')
    state = hf_state_to_mm(model_cfg, hf_model.state_dict(), 'test weights')
    mm = build_mm(model_cfg)
    mm.load_state_dict(state, strict=True)
    return model_cfg, state, mm


def logits_pair(hf_model, mm_model, x):
    """Decode and auxiliary logits of both models on ``x``."""
    with torch.no_grad():
        hf_logits = hf_model(pixel_values=x).logits
        metas = [dict(img_shape=tuple(x.shape[2:]))] * x.shape[0]
        mm_logits = mm_model.encode_decode(x, metas)
        aux = None
        if hf_model.auxiliary_head is not None:
            hf_feats = hf_model.backbone(x).feature_maps
            mm_feats = mm_model.extract_feat(x)
            aux = (hf_model.auxiliary_head(hf_feats),
                   mm_model.auxiliary_head(mm_feats))
    return hf_logits, mm_logits, aux


STAGES = ['stage1', 'stage2', 'stage3', 'stage4']
CLASSES = ['sky', 'road', 'car', 'tree']


def tiny_convnext(**kw):
    """A small transformers ConvNext backbone config (all four stages)."""
    from transformers import ConvNextConfig
    kw.setdefault('out_features', STAGES)
    return ConvNextConfig(
        hidden_sizes=[8, 16, 32, 64], depths=[1, 1, 2, 1], **kw)


def tiny_swin(**kw):
    """A small transformers Swin backbone config (window 3 unless
    given; two blocks per stage, so every stage has a shifted window)."""
    from transformers import SwinConfig
    kw.setdefault('out_features', STAGES)
    kw.setdefault('window_size', 3)
    return SwinConfig(
        embed_dim=8, depths=[2, 2, 2, 2], num_heads=[1, 2, 2, 4], **kw)


def save_hf_upernet(path, backbone_config, processor=None, seed=0, **head):
    """Save a random transformers UperNet with :data:`CLASSES` (and an
    image processor when ``processor`` gives its arguments) to ``path``.

    Returns:
        The model, in eval mode.
    """
    head.setdefault('id2label', dict(enumerate(CLASSES)))
    head.setdefault('hidden_size', 16)
    head.setdefault('auxiliary_channels', 8)
    model = hf_upernet(backbone_config, seed=seed, **head)
    model.save_pretrained(str(path))
    if processor is not None:
        from transformers import SegformerImageProcessor
        SegformerImageProcessor(**processor).save_pretrained(str(path))
    return model


def convert_hf_main(argv):
    """``main`` of tools/model_converters/convert_hf.py, in this process."""
    return load_tool('model_converters/convert_hf.py').main(argv)
