"""Conversions that cannot be exact fail with an error naming the backbone,
the field or the keys at fault."""
import copy
import json
import pickle

import pytest
import torch

transformers = pytest.importorskip(
    'transformers',
    reason='the checks are run on transformers configs and '
    'checkpoints')

from helpers.hf import convert_hf_main  # noqa: E402
from helpers.hf import CLASSES, save_hf_upernet, tiny_convnext, tiny_swin
from upernet_mm.apis import to_hf, to_mm  # noqa: E402
from upernet_mm.converters import CheckpointMismatchError  # noqa: E402
from upernet_mm.converters import (ConversionError, UnsupportedBackboneError,
                                   UnsupportedOptionError, hf_to_mm_model,
                                   mm_to_hf_config)


def upernet_json(backbone, **head):
    """A transformers UperNet config.json as a dict."""
    config = transformers.UperNetConfig(
        backbone_config=backbone, num_labels=len(CLASSES), **head)
    return config.to_dict()


@pytest.fixture(scope='module')
def convnext_files(tmp_path_factory):
    """A small ConvNeXt UperNet: its transformers directory and the
    upernet_mm config and checkpoint."""
    root = tmp_path_factory.mktemp('errors')
    save_hf_upernet(root / 'hf', tiny_convnext(), num_labels=len(CLASSES))
    config, checkpoint, _ = to_mm(str(root / 'hf'), str(root / 'mm'))
    return root, config, checkpoint


def test_unsupported_transformers_backbones():
    config = upernet_json(
        transformers.ConvNextConfig(
            out_features=['stage1', 'stage2', 'stage3', 'stage4']))
    config['backbone_config']['model_type'] = 'dinat'
    with pytest.raises(
            UnsupportedBackboneError,
            match=r"backbone_config.model_type='dinat' is not "
            r"supported.*'convnext', 'swin', 'resnet'"):
        hf_to_mm_model(config, 'x/config.json')
    with pytest.raises(
            UnsupportedBackboneError,
            match="model_type='segformer', expected a "
            'transformers UperNet'):
        hf_to_mm_model(dict(model_type='segformer'), 'x/config.json')


def test_unsupported_mm_backbone_names_the_reason():
    from mmengine.config import Config
    cfg = Config.fromfile('configs/upernet_r50_4xb4-160k_ade20k-512x512.py')
    with pytest.raises(
            UnsupportedBackboneError,
            match="type='ResNetV1c' has no transformers "
            'counterpart: its deep stem'):
        mm_to_hf_config(cfg.model.to_dict(), ['c'] * 150)
    model = cfg.model.to_dict()
    model['backbone'] = dict(type='MixVisionTransformer')
    with pytest.raises(
            UnsupportedBackboneError,
            match="'MixVisionTransformer' has no transformers"):
        mm_to_hf_config(model, ['c'] * 150)


@pytest.mark.parametrize('backbone, head, field', [
    (lambda: tiny_convnext(hidden_act='relu'), {},
     r"backbone_config\.hidden_act='relu' cannot be converted"),
    (lambda: tiny_swin(layer_norm_eps=1e-6), {},
     r'backbone_config\.layer_norm_eps=1e-06 cannot be converted'),
    (lambda: tiny_convnext(), dict(auxiliary_in_channels=48),
     r'auxiliary_in_channels=48 differs from the 32 channels'),
    (lambda: tiny_convnext(out_features=['stage3', 'stage4']), {},
     r'use_auxiliary_head=True reads feature map 2, but the backbone '
     r'outputs only 2'),
])
def test_transformers_options_without_counterpart(backbone, head, field):
    with pytest.raises(UnsupportedOptionError, match=field):
        hf_to_mm_model(upernet_json(backbone(), **head), 'x/config.json')


def test_id2label_with_gaps():
    config = upernet_json(tiny_convnext())
    config['id2label'] = {'0': 'a', '2': 'b'}
    with pytest.raises(ConversionError, match=r'ids must be 0\.\.1'):
        hf_to_mm_model(config, 'x/config.json')


@pytest.mark.parametrize('path, value, field', [
    ('decode_head.align_corners', True,
     r'model\.decode_head\.align_corners=True cannot be converted'),
    ('decode_head.norm_cfg', dict(type='GN', num_groups=4),
     r"model\.decode_head\.norm_cfg\.type='GN' cannot be converted"),
    ('decode_head.in_index', [1, 2, 3], r'model\.decode_head\.in_index='),
    ('auxiliary_head.in_index', 3,
     r'model\.auxiliary_head\.in_index=3 cannot be converted'),
    ('auxiliary_head.kernel_size', 1, r'auxiliary_head\.kernel_size=1'),
    ('backbone.use_grn', True, r'model\.backbone\.use_grn=True'),
    ('backbone.norm_cfg', dict(
        type='LN2d', eps=1e-5), r'model\.backbone\.norm_cfg\.eps=1e-05'),
    ('neck', dict(type='FPN'), r'model\.neck=.*cannot be converted'),
])
def test_mm_options_without_counterpart(convnext_files, path, value, field):
    from mmengine.config import Config
    model = Config.fromfile(convnext_files[1]).model.to_dict()
    parent = model
    *parents, leaf = path.split('.')
    for name in parents:
        parent = parent[name]
    parent[leaf] = value
    with pytest.raises(UnsupportedOptionError, match=field):
        mm_to_hf_config(model, CLASSES)


def test_mm_swin_options_without_counterpart():
    model = dict(
        type='UPerEncoderDecoder',
        backbone=dict(type='SwinTransformer', qk_scale=0.5))
    with pytest.raises(
            UnsupportedOptionError, match=r'model\.backbone\.qk_scale=0\.5'):
        mm_to_hf_config(model, CLASSES)


def test_transformers_checkpoint_keys_must_match_config(
        convnext_files, tmp_path):
    from safetensors.torch import load_file, save_file
    root = convnext_files[0]
    state = load_file(str(root / 'hf' / 'model.safetensors'))
    for name, change in (('missing', 'del'), ('extra', 'add')):
        broken = tmp_path / name
        broken.mkdir()
        (broken / 'config.json').write_text(
            (root / 'hf' / 'config.json').read_text())
        bad = dict(state)
        if change == 'del':
            del bad['decode_head.fpn_bottleneck.conv.weight']
        else:
            bad['decode_head.extra.weight'] = torch.zeros(1)
        save_file(bad, str(broken / 'model.safetensors'))
        expected = ('missing 1 key.*decode_head.fpn_bottleneck.conv.weight'
                    if change == 'del' else
                    '1 unexpected key.*decode_head.extra.weight')
        with pytest.raises(CheckpointMismatchError, match=expected):
            to_mm(str(broken), str(tmp_path / 'out'))


def test_mm_checkpoint_keys_must_match_config(convnext_files, tmp_path):
    _, config, checkpoint = convnext_files
    ckpt = torch.load(checkpoint, weights_only=True)
    state = ckpt['state_dict']

    del state['backbone.stages.2.1.gamma']
    torch.save(ckpt, str(tmp_path / 'missing.pth'))
    with pytest.raises(
            CheckpointMismatchError,
            match='missing backbone.stages.2.1.gamma'):
        to_hf(config, str(tmp_path / 'missing.pth'), str(tmp_path / 'o1'))

    state['backbone.stages.2.1.gamma'] = torch.zeros(5)
    state['decode_head.conv_seg.weight'] = torch.zeros(7, 16, 1, 1)
    torch.save(ckpt, str(tmp_path / 'shapes.pth'))
    with pytest.raises(
            CheckpointMismatchError,
            match=r'decode_head\.conv_seg\.weight: checkpoint '
            r'\(7, 16, 1, 1\), config \(4, 16, 1, 1\)'):
        to_hf(config, str(tmp_path / 'shapes.pth'), str(tmp_path / 'o2'))
    assert not (tmp_path / 'o2').exists()


def test_classes_must_match_num_classes(convnext_files, tmp_path):
    _, config, checkpoint = convnext_files
    ckpt = torch.load(checkpoint, weights_only=True)
    # the checkpoint's dataset_meta comes first
    ckpt['meta']['dataset_meta']['classes'] = ('a', 'b')
    torch.save(ckpt, str(tmp_path / 'two.pth'))
    with pytest.raises(
            UnsupportedOptionError,
            match='num_classes=4 but the dataset has 2 classes'):
        to_hf(config, str(tmp_path / 'two.pth'), str(tmp_path / 'o'))
    # without it, the config's metainfo
    del ckpt['meta']
    torch.save(ckpt, str(tmp_path / 'no_meta.pth'))
    with pytest.raises(
            UnsupportedOptionError,
            match='num_classes=4 but the dataset has 3 classes'):
        to_hf(
            config,
            str(tmp_path / 'no_meta.pth'),
            str(tmp_path / 'o'),
            cfg_options={'metainfo': dict(classes=('a', 'b', 'c'))})
    with pytest.raises(
            ConversionError, match='names the dataset classes; id2label'):
        to_hf(
            config,
            str(tmp_path / 'no_meta.pth'),
            str(tmp_path / 'o'),
            cfg_options={'metainfo': None})
    assert not (tmp_path / 'o').exists()


def test_pickled_code_in_pytorch_model_bin_is_refused(convnext_files,
                                                      tmp_path):
    from safetensors.torch import load_file
    root = convnext_files[0]
    (tmp_path / 'config.json').write_text(
        (root / 'hf' / 'config.json').read_text())
    state = load_file(str(root / 'hf' / 'model.safetensors'))
    state['evil'] = print  # any global torch's weights-only unpickler refuses
    torch.save(state, str(tmp_path / 'pytorch_model.bin'))
    with pytest.raises(pickle.UnpicklingError, match='pytorch_model.bin'):
        to_mm(str(tmp_path), str(tmp_path / 'out'))


def test_cli_reports_errors_without_traceback(convnext_files, tmp_path):
    _, config, checkpoint = convnext_files
    with pytest.raises(SystemExit) as exit_info:
        convert_hf_main(['to-mm', str(tmp_path / 'nowhere'), str(tmp_path)])
    assert str(exit_info.value.code).startswith('error: ')
    assert 'nowhere is not a directory' in str(exit_info.value.code)

    with pytest.raises(SystemExit) as exit_info:
        convert_hf_main([
            'to-hf', config, checkpoint,
            str(tmp_path / 'o'), '--cfg-options',
            'model.auxiliary_head.dilation=2'
        ])
    assert str(exit_info.value.code).startswith(
        'error: model.auxiliary_head.dilation=2 cannot be converted')
    assert not (tmp_path / 'o').exists()


def test_hf_scheme_errors_name_the_directory(tmp_path):
    from mmengine.runner import CheckpointLoader

    import upernet_mm.converters  # noqa: F401  (registers hf://)
    with pytest.raises(FileNotFoundError, match='has no config.json'):
        CheckpointLoader.load_checkpoint(f'hf://{tmp_path}')
    config = upernet_json(tiny_convnext())
    model = copy.deepcopy(config)
    model['backbone_config']['model_type'] = 'beit'
    (tmp_path / 'config.json').write_text(json.dumps(model))
    with pytest.raises(UnsupportedBackboneError, match="'beit'"):
        CheckpointLoader.load_checkpoint(f'hf://{tmp_path}')
    # a backbone-only directory of an unsupported type
    (tmp_path / 'config.json').write_text(json.dumps(dict(model_type='vit')))
    with pytest.raises(
            UnsupportedBackboneError,
            match=r"config.json.model_type='vit' is not supported"):
        CheckpointLoader.load_checkpoint(f'hf://{tmp_path}')
