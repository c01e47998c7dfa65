"""OpenVINO artefacts (upernet_mm.deploy.openvino.export): fp32 parity with
PyTorch on dynamic sizes, bf16 and int8 pixel agreement, int8 determinism,
the OpenVINOSegmentor behind init_model and tools/test.py, and the errors
of --deploy."""
import filecmp
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

pytest.importorskip('openvino')
pytest.importorskip('nncf')

from helpers import ROOT  # noqa: E402
from helpers.openvino import run_test_step  # noqa: E402
from helpers.openvino import folder_images, write_tiny_openvino_model
from upernet_mm.apis import init_model  # noqa: E402
from upernet_mm.deploy.openvino.artefact import SIDECAR  # noqa: E402
from upernet_mm.deploy.openvino.artefact import ArtefactError, read_sidecar
from upernet_mm.deploy.openvino.export import export_openvino  # noqa: E402
from upernet_mm.deploy.openvino.runtime import load_openvino  # noqa: E402
from upernet_mm.deploy.segmentor_logits import SegmentorLogits  # noqa: E402

TOL = 1e-4
SIZE = (32, 40)


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """The tiny trained model and its three artefacts."""
    tmp = tmp_path_factory.mktemp('ov')
    config, checkpoint = write_tiny_openvino_model(tmp)
    model = init_model(config, checkpoint)
    calib = folder_images(config, 'train', 8)
    check = folder_images(config, 'val', 4)
    dirs = {}
    for precision in ('fp32', 'bf16', 'int8'):
        dirs[precision] = str(tmp / precision)
        export_openvino(
            model,
            dirs[precision],
            precision,
            example_size=SIZE,
            calibration=calib if precision == 'int8' else None,
            check_images=check,
            checkpoint_sha256='0' * 64,
            calibration_info=dict(split='train'))
    return dict(
        tmp=tmp,
        config=config,
        checkpoint=checkpoint,
        model=model,
        calib=calib,
        check=check,
        **dirs)


def _reference(model, images):
    with torch.no_grad():
        return SegmentorLogits(model).eval()(torch.as_tensor(images))


def test_fp32_ir_matches_pytorch_on_dynamic_sizes(tiny):
    runner = load_openvino(tiny['fp32'])
    assert runner.config['INFERENCE_PRECISION_HINT'] == 'f32'
    assert runner.config['PERFORMANCE_HINT'] == 'LATENCY'
    assert runner.config['INFERENCE_NUM_THREADS'] == torch.get_num_threads()
    shape = runner.compiled.inputs[0].get_partial_shape()
    assert shape[0].is_dynamic and shape[2].is_dynamic and shape[3].is_dynamic
    gen = torch.Generator().manual_seed(0)
    for size in [(1, 3) + SIZE, (2, 3, 64, 96), (1, 3, 96, 64)]:
        image = torch.rand(*size, generator=gen) * 255
        expected = _reference(tiny['model'], image)
        got = runner(image)
        assert got.shape == (size[0], 4) + size[2:]
        assert expected.std() > 0.1
        torch.testing.assert_close(got, expected, atol=TOL, rtol=0)
    check = read_sidecar(tiny['fp32'])['check']
    assert check['images'] == 4 and check['max_abs_logit_diff'] < TOL


@pytest.mark.parametrize('precision,threshold', [('bf16', 0.98),
                                                 ('int8', 0.93)])
def test_bf16_and_int8_pixel_agreement(tiny, precision, threshold):
    """On validation images of a model trained a few steps (several classes
    predicted); measured 99.7% (bf16) and 96.6% (int8, 8 calibration
    images)."""
    runner = load_openvino(tiny[precision])
    hint = dict(bf16='bf16', int8='bf16')[precision]
    assert runner.config['INFERENCE_PRECISION_HINT'] == hint
    same = total = 0
    for image in tiny['check']:
        expected = _reference(tiny['model'], image).argmax(1)
        assert len(expected.unique()) > 1
        same += (runner(image).argmax(1) == expected).sum().item()
        total += expected.numel()
    assert same / total >= threshold
    check = read_sidecar(tiny[precision])['check']
    assert check['pixel_agreement'] == pytest.approx(same / total)


def test_int8_sidecar_records_calibration(tiny):
    info = read_sidecar(tiny['int8'])
    assert info['precision'] == 'int8'
    assert info['num_classes'] == 4
    assert info['source_checkpoint_sha256'] == '0' * 64
    calib = info['calibration']
    assert calib['images'] == 8 and calib['split'] == 'train'
    assert calib['keep_float'] == ['classifier']
    assert read_sidecar(tiny['fp32'])['calibration'] is None


def test_int8_export_is_deterministic(tiny):
    """Same model and calibration images: the same IR bytes."""
    out = str(tiny['tmp'] / 'int8_again')
    export_openvino(
        tiny['model'],
        out,
        'int8',
        example_size=SIZE,
        calibration=tiny['calib'],
        check_images=tiny['check'],
        checkpoint_sha256='0' * 64,
        calibration_info=dict(split='train'))
    for name in ('model.xml', 'model.bin', SIDECAR):
        assert filecmp.cmp(
            osp.join(out, name), osp.join(tiny['int8'], name),
            shallow=False), name


@pytest.mark.parametrize('mode', ['whole', 'slide'])
def test_init_model_runs_an_artefact_through_mmseg_inference(tiny, mode):
    """init_model(config, ARTEFACT): mmseg's test_step (data preprocessor,
    whole or sliding-window inference, postprocessing) with the artefact as
    the network equals the PyTorch model's."""
    import numpy as np
    options = None if mode == 'whole' else {
        'model.test_cfg': dict(
            mode='slide', crop_size=(32, 32), stride=(16, 16))
    }
    pytorch = init_model(
        tiny['config'], tiny['checkpoint'], cfg_options=options)
    model = init_model(
        tiny['config'], tiny['fp32'], cfg_options=options, deploy='fp32')
    assert type(model).__name__ == 'OpenVINOSegmentor'
    assert model.backbone is None and model.precision == 'fp32'
    assert sum(p.numel() for p in model.parameters()) == 0
    rng = np.random.default_rng(0)
    images = [
        rng.integers(0, 255, (48, 72, 3), dtype=np.uint8) for _ in range(2)
    ]
    expected = run_test_step(pytorch, images)
    got = run_test_step(model, images)
    for e, g in zip(expected, got):
        torch.testing.assert_close(
            g.seg_logits.data, e.seg_logits.data, atol=TOL, rtol=0)
        assert torch.equal(g.pred_sem_seg.data, e.pred_sem_seg.data)


def test_deploy_int8_with_a_checkpoint_names_the_command(tiny):
    with pytest.raises(
            ArtefactError, match=r'export_openvino\.py .*--precision int8'):
        init_model(tiny['config'], tiny['checkpoint'], deploy='int8')


def test_artefact_of_another_precision_is_an_error(tiny):
    with pytest.raises(ArtefactError, match=r'--deploy fp32.* is int8'):
        init_model(tiny['config'], tiny['int8'], deploy='fp32')
    with pytest.raises(ArtefactError, match=r'--deploy int8.* is bf16'):
        load_openvino(tiny['bf16'], deploy='int8')
    # without --deploy the artefact runs at its own precision
    assert init_model(tiny['config'], tiny['bf16']).precision == 'bf16'


def test_artefact_with_the_wrong_config_is_an_error(tiny):
    with pytest.raises(ArtefactError, match='predicts 4 classes'):
        init_model(
            tiny['config'],
            tiny['fp32'],
            cfg_options={'model.decode_head.num_classes': 7})


def test_sidecar_is_plain_json(tiny):
    with open(osp.join(tiny['int8'], SIDECAR)) as f:
        data = json.load(f)
    assert data['runtime'] == dict(
        inference_precision_hint='bf16', performance_hint='LATENCY')
    assert data['input']['name'] == 'image'


def test_import_upernet_mm_does_not_import_openvino():
    code = ('import sys, upernet_mm, upernet_mm.apis, upernet_mm.deploy.cli;'
            'print("openvino" in sys.modules, "nncf" in sys.modules)')
    out = subprocess.run([sys.executable, '-c', code],
                         capture_output=True,
                         text=True,
                         cwd=ROOT,
                         timeout=300)
    assert out.stdout.split() == ['False', 'False'], out.stderr[-2000:]


def test_openvino_telemetry_is_declined_and_ci_restored():
    """import openvino (its converter package) would send a usage event to
    Google Analytics without a consent file; upernet_mm's imports decline
    it and leave CI as it was."""
    pytest.importorskip('openvino_telemetry')
    code = ('import os; os.environ.pop("CI", None);'
            'import upernet_mm.deploy.openvino.export;'
            'import openvino_telemetry as t;'
            'print(t.Telemetry().consent, os.environ.get("CI"))')
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ('CI', 'NNCF_CI', 'TF_BUILD', 'JENKINS_URL')
    }
    out = subprocess.run([sys.executable, '-c', code],
                         capture_output=True,
                         text=True,
                         cwd=ROOT,
                         timeout=300,
                         env=env)
    assert out.stdout.split() == ['False', 'None'], out.stderr[-2000:]
