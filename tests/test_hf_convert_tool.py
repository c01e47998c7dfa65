"""tools/model_converters/convert_hf.py in both directions, the files it
reads and writes, and the ``hf://`` checkpoint scheme in configs
(``load_from`` and a backbone ``init_cfg``)."""
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch

transformers = pytest.importorskip(
    'transformers',
    reason='converting needs transformers to build and load '
    'the transformers models')

from helpers import ROOT  # noqa: E402
from helpers.hf import convert_hf_main  # noqa: E402
from helpers.hf import (CLASSES, STAGES, save_hf_upernet, tiny_convnext,
                        tiny_swin)
from upernet_mm.apis import build_segmentor, to_mm  # noqa: E402
from upernet_mm.benchmark.candidates import randomize  # noqa: E402

TOL = 1e-4


def hf_state_equal(a, b, skip=()):
    assert set(a) == set(b)
    for key in a:
        if not key.startswith(tuple(skip)):
            assert torch.equal(a[key], b[key]), key


@pytest.fixture(scope='module')
def convnext_hf(tmp_path_factory):
    """A ConvNeXt UperNet directory with a non-ImageNet normalisation."""
    path = tmp_path_factory.mktemp('hf') / 'upernet-convnext-mini'
    model = save_hf_upernet(
        path,
        tiny_convnext(),
        num_labels=len(CLASSES),
        processor=dict(
            do_resize=False,
            image_mean=[0.5, 0.4, 0.3],
            image_std=[0.25, 0.2, 0.3]))
    return path, model


@pytest.fixture(scope='module')
def convnext_mm(convnext_hf, tmp_path_factory):
    """Its upernet_mm config and checkpoint."""
    out = tmp_path_factory.mktemp('mm')
    config, checkpoint, _ = to_mm(str(convnext_hf[0]), str(out))
    return config, checkpoint


@pytest.mark.slow
def test_cli_converts_both_ways_with_identical_outputs(convnext_hf, tmp_path):
    import cv2
    import numpy as np
    from mmengine.config import Config
    from mmseg.apis import inference_model, init_model
    hf_dir, hf_model = convnext_hf

    # to-mm, as a script
    out = subprocess.run([
        sys.executable, 'tools/model_converters/convert_hf.py', 'to-mm',
        str(hf_dir),
        str(tmp_path / 'mm')
    ],
                         cwd=ROOT,
                         capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    config = tmp_path / 'mm' / 'upernet-convnext-mini.py'
    checkpoint = tmp_path / 'mm' / 'upernet-convnext-mini.pth'
    assert f'wrote {config}' in out.stdout
    assert f'wrote {checkpoint}' in out.stdout

    # the config inherits our bases and carries classes and normalisation
    text = config.read_text()
    assert '_base_/models/upernet_convnext.py' in text
    assert '_base_/default_runtime.py' in text
    cfg = Config.fromfile(str(config))
    assert list(cfg.metainfo.classes) == CLASSES
    assert len(cfg.metainfo.palette) == len(CLASSES)
    assert cfg.model.data_preprocessor.mean == pytest.approx(
        [127.5, 102.0, 76.5])
    assert cfg.model.data_preprocessor.std == pytest.approx(
        [63.75, 51.0, 76.5])
    ckpt = torch.load(str(checkpoint), map_location='cpu', weights_only=True)
    assert ckpt['meta']['dataset_meta']['classes'] == tuple(CLASSES)

    # image file -> mmseg inference == transformers processor + model
    rgb = np.random.default_rng(0).integers(0, 256, (40, 72, 3), np.uint8)
    cv2.imwrite(str(tmp_path / 'img.png'), rgb[..., ::-1])
    mm_model = init_model(str(config), str(checkpoint), device='cpu')
    mm_logits = inference_model(mm_model, str(tmp_path / 'img.png')) \
        .seg_logits.data
    processor = transformers.AutoImageProcessor.from_pretrained(str(hf_dir))
    pixels = processor(images=rgb, return_tensors='pt')['pixel_values']
    with torch.no_grad():
        hf_logits = hf_model(pixel_values=pixels).logits[0]
    assert mm_logits.shape == hf_logits.shape == (len(CLASSES), 40, 72)
    torch.testing.assert_close(mm_logits, hf_logits, atol=TOL, rtol=0)

    # to-hf, back to a directory transformers loads without complaint
    back = tmp_path / 'hf_back'
    convert_hf_main(['to-hf', str(config), str(checkpoint), str(back)])
    assert (back / 'model.safetensors').is_file()
    loaded, info = transformers.UperNetForSemanticSegmentation \
        .from_pretrained(str(back), output_loading_info=True)
    assert not any(info.values()), info
    assert [loaded.config.id2label[i] for i in range(4)] == CLASSES
    hf_state_equal(loaded.state_dict(), hf_model.state_dict())
    written = json.loads((back / 'preprocessor_config.json').read_text())
    assert written['image_mean'] == pytest.approx([0.5, 0.4, 0.3])
    assert written['image_std'] == pytest.approx([0.25, 0.2, 0.3])
    assert written['do_resize'] is False


def test_swin_without_aux_self_contained_round_trip(tmp_path):
    from mmengine.config import Config
    hf_dir = tmp_path / 'swin'
    hf_model = save_hf_upernet(
        hf_dir,
        tiny_swin(),
        num_labels=len(CLASSES),
        use_auxiliary_head=False,
        pool_scales=[1, 3],
        processor=dict(do_resize=True, size=dict(height=48, width=80)))
    convert_hf_main([
        'to-mm',
        str(hf_dir),
        str(tmp_path / 'mm'), '--name', 'swin', '--self-contained'
    ])
    config = tmp_path / 'mm' / 'swin.py'
    assert '_base_' not in config.read_text()
    cfg = Config.fromfile(str(config))
    assert cfg.model.backbone.type == 'SwinTransformer'
    assert cfg.model.backbone.window_size == 3
    assert cfg.model.auxiliary_head is None  # the base's one is dropped
    assert list(cfg.model.decode_head.pool_scales) == [1, 3]
    assert dict(type='Resize', scale=(80, 48), keep_ratio=False) in \
        cfg.test_pipeline
    state = torch.load(
        str(tmp_path / 'mm' / 'swin.pth'), weights_only=True)['state_dict']
    build_segmentor(cfg.model).load_state_dict(state, strict=True)

    convert_hf_main([
        'to-hf',
        str(config),
        str(tmp_path / 'mm' / 'swin.pth'),
        str(tmp_path / 'back')
    ])
    loaded, info = transformers.UperNetForSemanticSegmentation \
        .from_pretrained(str(tmp_path / 'back'), output_loading_info=True)
    assert not any(info.values()), info
    assert loaded.auxiliary_head is None
    # SwinModel's final LayerNorm is never used by the backbone and is not
    # kept; everything else comes back bitwise
    hf_state_equal(
        loaded.state_dict(),
        hf_model.state_dict(),
        skip=['backbone.swin.layernorm.'])
    written = json.loads(
        (tmp_path / 'back' / 'preprocessor_config.json').read_text())
    assert written['do_resize'] is True
    assert written['size'] == dict(height=48, width=80)


def test_load_from_hf_scheme_in_a_runner(convnext_hf, convnext_mm, tmp_path):
    from mmengine.config import Config
    from mmengine.runner import Runner
    cfg = Config.fromfile(convnext_mm[0])
    cfg.work_dir = str(tmp_path / 'work')
    cfg.load_from = f'hf://{convnext_hf[0]}'
    runner = Runner.from_cfg(cfg)
    runner.load_or_resume()
    expected = torch.load(convnext_mm[1], weights_only=True)['state_dict']
    state = runner.model.state_dict()
    assert set(state) == set(expected)
    for key, value in expected.items():
        assert torch.equal(state[key], value), key


def _backbone_features_match(hf_backbone_cls, hf_config, tmp_path, x):
    """Save a random transformers backbone, initialise the converted mm
    backbone from ``hf://`` and compare the feature maps."""
    from mmengine.registry import DefaultScope

    from upernet_mm.converters.rules import with_defaults
    from upernet_mm.converters.upernet import hf_backbone_mapping
    from upernet_mm.registry import MODELS
    hf = hf_backbone_cls(hf_config).eval()
    randomize(hf, seed=3)
    hf.save_pretrained(str(tmp_path / 'backbone'))
    mapping = hf_backbone_mapping(hf_config.model_type, 'test')
    cfg = mapping.to_mm_config(
        with_defaults(hf_config.to_dict(), mapping.hf_defaults), 'test')
    cfg['init_cfg'] = dict(
        type='Pretrained',
        checkpoint=f'hf://{tmp_path / "backbone"}',
        prefix='backbone.')
    with DefaultScope.overwrite_default_scope('upernet_mm'):
        mm = MODELS.build(cfg)
    before = [p.clone() for p in mm.parameters()]
    mm.init_weights()
    mm.eval()
    assert any(not torch.equal(a, b) for a, b in zip(before, mm.parameters()))
    with torch.no_grad():
        hf_feats = hf(x).feature_maps
        mm_feats = mm(x)
    assert len(hf_feats) == len(mm_feats) == 4
    for a, b in zip(hf_feats, mm_feats):
        torch.testing.assert_close(b, a, atol=1e-5, rtol=0)


def test_backbone_init_cfg_from_hf_backbone_dirs(tmp_path):
    """ConvNeXt initialises through mmengine's ``Pretrained`` (with
    ``prefix``), mmseg's Swin through its own ``init_weights``; both read a
    transformers ``*Backbone`` directory through ``hf://``."""
    x = torch.randn(1, 3, 64, 96, generator=torch.Generator().manual_seed(0))
    import mmpretrain.models  # noqa: F401  (registers ConvNeXt)

    from upernet_mm.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    _backbone_features_match(transformers.ConvNextBackbone, tiny_convnext(),
                             tmp_path / 'convnext', x)
    _backbone_features_match(transformers.SwinBackbone,
                             tiny_swin(window_size=2), tmp_path / 'swin', x)


def test_weight_files_sharded_bin_and_safetensors_first(tmp_path):
    from upernet_mm.converters.hf_files import read_weights, weights_path
    model = save_hf_upernet(tmp_path / 'single', tiny_convnext(), num_labels=4)
    expected = model.state_dict()
    model.save_pretrained(str(tmp_path / 'sharded'), max_shard_size='20KB')
    assert len(list((tmp_path / 'sharded').glob('*.safetensors'))) > 1
    assert weights_path(str(
        tmp_path / 'sharded')).endswith('model.safetensors.index.json')
    hf_state_equal(read_weights(str(tmp_path / 'sharded')), expected)

    # pytorch_model.bin (loaded with weights_only=True)
    model.config.save_pretrained(str(tmp_path / 'bin'))
    torch.save(expected, str(tmp_path / 'bin' / 'pytorch_model.bin'))
    hf_state_equal(read_weights(str(tmp_path / 'bin')), expected)
    config, checkpoint, _ = to_mm(str(tmp_path / 'bin'), str(tmp_path / 'o'))
    assert osp.isfile(checkpoint)

    # both: safetensors wins, the .bin is not even opened
    model.save_pretrained(str(tmp_path / 'both'))
    (tmp_path / 'both' / 'pytorch_model.bin').write_bytes(b'not a pickle')
    hf_state_equal(read_weights(str(tmp_path / 'both')), expected)


def test_stage_subset_and_custom_convnext_arch(tmp_path):
    """A ConvNeXt width set that is no mmpretrain arch becomes an arch dict;
    out_features other than all stages give the matching in_index."""
    from mmengine.config import Config
    hf_dir = tmp_path / 'hf'
    save_hf_upernet(
        hf_dir,
        tiny_convnext(out_features=STAGES[1:]),
        num_labels=4,
        auxiliary_in_channels=64)
    config, _, _ = to_mm(str(hf_dir), str(tmp_path / 'mm'))
    cfg = Config.fromfile(config)
    assert cfg.model.backbone.arch == dict(
        depths=[1, 1, 2, 1], channels=[8, 16, 32, 64])
    assert list(cfg.model.backbone.out_indices) == [1, 2, 3]
    assert list(cfg.model.decode_head.in_channels) == [16, 32, 64]
    assert cfg.model.auxiliary_head.in_channels == 64


def test_fine_tune_converted_model_on_another_dataset(convnext_mm, tmp_path):
    """The to-mm config, with a dataset and a schedule base added to its
    ``_base_``, fine-tunes from the converted checkpoint on the 13
    SyntheticScenes classes (the 4-class classifiers are re-initialised),
    and the result converts back with the new classes."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from upernet_mm.datasets import SyntheticScenesDataset
    config, checkpoint = convnext_mm
    bases = [
        osp.join(ROOT, 'configs', '_base_', p)
        for p in ('datasets/synthetic_scenes.py', 'schedules/schedule_20k.py')
    ]
    text = open(config).read()
    assert text.count('_base_ = [') == 1
    text = text.replace('_base_ = [', f'_base_ = [{bases[0]!r}, '
                        f'{bases[1]!r},', 1)
    (tmp_path / 'converted.py').write_text(text)
    (tmp_path / 'finetune.py').write_text(f"""
_base_ = ['converted.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=(48, 48)),
    decode_head=dict(num_classes=13, norm_cfg=norm_cfg),
    auxiliary_head=dict(num_classes=13, norm_cfg=norm_cfg))
load_from = {checkpoint!r}
""")
    cfg = Config.fromfile(str(tmp_path / 'finetune.py'))
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.update(num_workers=0, persistent_workers=False, batch_size=2)
        loader.dataset.update(
            data_root=str(tmp_path / 'scenes'),
            generator_cfg=dict(seed=0, num_train=4, num_val=2, size=64))
    cfg.train_dataloader.dataset.pipeline[3].crop_size = (48, 48)
    cfg.train_cfg = dict(
        type='IterBasedTrainLoop', max_iters=2, val_interval=100)
    cfg.default_hooks.checkpoint.interval = 2
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    state = runner.model.state_dict()
    converted = torch.load(checkpoint, weights_only=True)['state_dict']
    assert state['decode_head.conv_seg.weight'].shape[0] == 13
    # two steps from the loaded backbone move it only slightly
    key = 'backbone.stages.2.0.pointwise_conv1.weight'
    delta = (state[key] - converted[key]).abs().max()
    assert 0 < delta < 0.1 * converted[key].abs().max()

    # back to transformers: id2label from the fine-tuned checkpoint's meta
    from upernet_mm.apis import to_hf
    to_hf(
        str(tmp_path / 'finetune.py'), str(tmp_path / 'work' / 'iter_2.pth'),
        str(tmp_path / 'hf'))
    hf_cfg = json.loads((tmp_path / 'hf' / 'config.json').read_text())
    classes = SyntheticScenesDataset.METAINFO['classes']
    assert [hf_cfg['id2label'][str(i)] for i in range(13)] == list(classes)
