"""Our registry scope inside mmseg's: building, coexistence, lookups."""
import subprocess
import sys
import textwrap

import torch
from mmengine.config import Config
from mmseg.models.decode_heads import UPerHead as MMSegUPerHead
from mmseg.registry import MODELS as MMSEG_MODELS

import upernet_mm
from upernet_mm.models import FCNHead, UPerHead
from upernet_mm.registry import (DATASETS, METRICS, MODELS, TRANSFORMS,
                                 VISUALIZERS)

NORM = dict(type='BN', requires_grad=True)


def _segmentor_cfg(head_type='UPerHead',
                   aux_type='FCNHead',
                   segmentor='UPerEncoderDecoder'):
    return dict(
        type=segmentor,
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            pad_val=0,
            seg_pad_val=255),
        backbone=dict(
            type='ResNetV1c',
            depth=18,
            num_stages=4,
            out_indices=(0, 1, 2, 3),
            dilations=(1, 1, 1, 1),
            strides=(1, 2, 2, 2),
            norm_cfg=NORM,
            style='pytorch',
            contract_dilation=True),
        decode_head=dict(
            type=head_type,
            in_channels=[64, 128, 256, 512],
            in_index=[0, 1, 2, 3],
            pool_scales=(1, 2, 3, 6),
            channels=32,
            dropout_ratio=0.1,
            num_classes=7,
            norm_cfg=NORM,
            align_corners=False),
        auxiliary_head=dict(
            type=aux_type,
            in_channels=256,
            in_index=2,
            channels=16,
            num_convs=1,
            concat_input=False,
            dropout_ratio=0.1,
            num_classes=7,
            norm_cfg=NORM,
            align_corners=False,
            loss_decode=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


def test_default_scope_builds_ours_and_resolves_mmseg(scope):
    scope('upernet_mm')
    model = MODELS.build(_segmentor_cfg())
    assert type(model.decode_head) is UPerHead
    assert type(model.auxiliary_head) is FCNHead
    # our UPerEncoderDecoder subclasses mmseg's (checks, batched slide)
    assert type(model).__name__ == 'UPerEncoderDecoder'
    assert type(model).__module__.startswith('upernet_mm.')
    assert type(model).__mro__[1].__module__.startswith('mmseg.')
    assert type(model.backbone).__name__ == 'ResNetV1c'
    assert TRANSFORMS.get('LoadAnnotations').__module__.startswith('mmseg.')
    assert TRANSFORMS.get('LoadImageFromFile') is not None
    assert DATASETS.get('ADE20KDataset').__module__.startswith('mmseg.')
    assert METRICS.get('IoUMetric').__module__.startswith('mmseg.')
    assert VISUALIZERS.get('SegLocalVisualizer') is not None


def test_mmseg_scope_keeps_mmseg_heads_and_prefix_builds_ours(scope):
    scope('mmseg')
    assert MMSEG_MODELS.get('UPerHead') is MMSegUPerHead
    model = MMSEG_MODELS.build(_segmentor_cfg(segmentor='EncoderDecoder'))
    assert type(model.decode_head) is MMSegUPerHead
    model = MMSEG_MODELS.build(
        _segmentor_cfg('upernet_mm.UPerHead', 'upernet_mm.FCNHead',
                       'EncoderDecoder'))
    assert type(model.decode_head) is UPerHead
    assert type(model.auxiliary_head) is FCNHead


def test_mmpretrain_convnext_resolves_in_our_scope(scope):
    scope('upernet_mm')
    cfg = Config(
        dict(
            model=dict(
                type='mmpretrain.ConvNeXt',
                arch='atto',
                out_indices=[0, 1, 2, 3],
                drop_path_rate=0.1,
                gap_before_final_norm=False)))
    backbone = MODELS.build(cfg.model)
    outs = backbone(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [40, 80, 160, 320]


def test_mmseg_checkpoint_loads_strictly_and_predicts_the_same(scope):
    scope('mmseg')
    torch.manual_seed(0)
    theirs = MMSEG_MODELS.build(
        _segmentor_cfg(segmentor='EncoderDecoder')).eval()
    ours = MMSEG_MODELS.build(
        _segmentor_cfg('upernet_mm.UPerHead', 'upernet_mm.FCNHead',
                       'upernet_mm.UPerEncoderDecoder')).eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(1, 3, 65, 97)
    with torch.no_grad():
        torch.testing.assert_close(
            ours(x, mode='tensor'),
            theirs(x, mode='tensor'),
            atol=1e-5,
            rtol=1e-5)


def test_prefix_needs_no_custom_imports_in_fresh_interpreter():
    code = textwrap.dedent("""
        from mmengine.registry import init_default_scope
        from mmseg.registry import MODELS
        import sys
        init_default_scope('mmseg')
        assert 'upernet_mm' not in sys.modules
        head = MODELS.build(dict(type='upernet_mm.UPerHead',
                                 in_channels=[4, 8], in_index=[0, 1],
                                 channels=4, num_classes=2))
        print(type(head).__module__)
    """)
    out = subprocess.run([sys.executable, '-c', code],
                         capture_output=True,
                         text=True,
                         check=True)
    assert out.stdout.strip() == 'upernet_mm.models.decode_heads.uper_head'


def test_register_all_modules_sets_scope():
    from mmengine.registry import DefaultScope

    from upernet_mm.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    assert DefaultScope.get_current_instance().scope_name == 'upernet_mm'
    assert upernet_mm.__version__
