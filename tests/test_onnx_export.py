"""tools/deployment/export_onnx.py: onnxruntime against PyTorch on dynamic
sizes."""
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn as nn

from helpers import ROOT, load_tool
from upernet_mm.apis import init_model
from upernet_mm.deploy.onnx.adaptive_pool import (ExportableAdaptiveAvgPool2d,
                                                  replace_adaptive_pools)

TOL = 1e-4


@pytest.mark.parametrize('size', [(16, 16), (7, 5), (3, 11), (1, 1), (13, 2)])
@pytest.mark.parametrize('out', [1, 2, 3, 6, (2, 5)])
def test_exportable_adaptive_pool_matches_torch(size, out):
    x = torch.randn(2, 3, *size)
    torch.testing.assert_close(
        ExportableAdaptiveAvgPool2d(out)(x),
        nn.AdaptiveAvgPool2d(out)(x),
        atol=1e-6,
        rtol=1e-6)


def test_replace_adaptive_pools_and_bad_size():
    m = nn.Sequential(nn.Sequential(nn.AdaptiveAvgPool2d(3)), nn.ReLU())
    assert replace_adaptive_pools(m) == 1
    assert isinstance(m[0][0], ExportableAdaptiveAvgPool2d)
    with pytest.raises(ValueError, match='output_size'):
        ExportableAdaptiveAvgPool2d((2, None))


CONFIG = """
_base_ = [{base!r}]
default_scope = 'upernet_mm'
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(arch='atto', drop_path_rate=0.0),
    decode_head=dict(in_channels=[40, 80, 160, 320], channels=32,
                     num_classes=5, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=160, channels=16, num_classes=5,
                        norm_cfg=norm_cfg))
"""


def _tool(name):
    return load_tool(f'deployment/{name}.py')


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    pytest.importorskip('onnxruntime')
    pytest.importorskip('onnxscript')
    from mmengine.config import Config

    from upernet_mm.apis import build_segmentor
    from upernet_mm.benchmark.candidates import randomize
    tmp = tmp_path_factory.mktemp('onnx')
    config = tmp / 'tiny_convnext.py'
    config.write_text(
        CONFIG.format(
            base=osp.join(ROOT, 'configs', '_base_', 'models',
                          'upernet_convnext.py')))
    torch.manual_seed(0)
    model = randomize(
        build_segmentor(Config.fromfile(str(config)).model), seed=3)
    checkpoint = tmp / 'tiny.pth'
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    out = tmp / 'out' / 'tiny.onnx'
    _tool('export_onnx').main(
        [str(config),
         str(checkpoint),
         str(out), '--shape', '64', '64'])
    return config, checkpoint, out


def test_onnxruntime_matches_pytorch_on_two_sizes(exported):
    import onnx
    import onnxruntime as ort

    from upernet_mm.deploy.segmentor_logits import SegmentorLogits
    config, checkpoint, out = exported
    dims = onnx.load(str(out)).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims][1] == 3
    assert all(d.dim_param for i, d in enumerate(dims) if i != 1)

    model = init_model(str(config), str(checkpoint), 'cpu', strict=True)
    # the checkpoint's weights, not a fresh initialisation
    saved = torch.load(str(checkpoint), weights_only=True)['state_dict']
    key = 'decode_head.fpn_bottleneck.bn.running_var'
    torch.testing.assert_close(model.state_dict()[key], saved[key])
    reference = SegmentorLogits(model).eval()
    session = ort.InferenceSession(
        str(out), providers=['CPUExecutionProvider'])
    gen = torch.Generator().manual_seed(0)
    for shape in [(1, 3, 64, 64), (2, 3, 96, 160)]:
        image = torch.rand(*shape, generator=gen) * 255
        with torch.no_grad():
            expected = reference(image)
        got = session.run(None, {'image': image.numpy()})[0]
        assert got.shape == (shape[0], 5) + shape[2:]
        assert expected.std() > 0.05
        np.testing.assert_allclose(got, expected.numpy(), atol=TOL, rtol=0)


def test_exported_logits_equal_encode_decode(exported):
    """The graph includes the data preprocessor's flip and normalisation."""
    from upernet_mm.deploy.segmentor_logits import SegmentorLogits
    config, checkpoint, _ = exported
    model = init_model(str(config), str(checkpoint), 'cpu', strict=True)
    image = torch.rand(1, 3, 64, 96) * 255
    data = model.data_preprocessor(dict(inputs=[image[0]]), False)
    metas = [dict(img_shape=(64, 96), ori_shape=(64, 96))]
    with torch.no_grad():
        expected = model.encode_decode(data['inputs'], metas)
        got = SegmentorLogits(model).eval()(image)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_export_tool_errors_name_the_file(tmp_path):
    missing = str(tmp_path / 'missing.py')
    with pytest.raises(SystemExit, match=f'error: .*{missing}'):
        _tool('export_onnx').main([missing, 'x.pth', str(tmp_path / 'o')])
