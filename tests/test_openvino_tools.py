"""tools/deployment/export_openvino.py, tools/test.py and tools/infer.py
with an int8 OpenVINO artefact, end to end in subprocesses (tiny sizes)."""
import json
import os

import pytest

pytest.importorskip('openvino')
pytest.importorskip('nncf')

from helpers import run_tool  # noqa: E402
from helpers.openvino import write_tiny_openvino_model  # noqa: E402


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('ovtools')
    config, checkpoint = write_tiny_openvino_model(tmp)
    out = tmp / 'int8'
    proc = run_tool('deployment/export_openvino.py', config, checkpoint,
                    '--out', out, '--precision', 'int8', '--shape', '32', '40',
                    '--calib-images', '6', '--check-images', '4')
    return tmp, config, checkpoint, out, proc.stdout


@pytest.mark.slow
def test_export_tool_writes_and_checks_an_int8_artefact(exported):
    tmp, _, checkpoint, out, stdout = exported
    assert 'calibration: 6 train images of 8' in stdout
    assert 'OpenVINO int8 vs PyTorch fp32 on 4 images' in stdout
    with open(out / 'upernet_mm_openvino.json') as f:
        sidecar = json.load(f)
    from upernet_mm.deploy.openvino.artefact import sha256_file
    assert sidecar['source_checkpoint_sha256'] == sha256_file(checkpoint)
    assert sidecar['calibration']['num_images'] == 6
    assert sidecar['calibration']['first_file'] == '0000.png'
    assert sidecar['check']['pixel_agreement'] > 0.9


@pytest.mark.slow
def test_test_py_evaluates_the_artefact(exported):
    tmp, config, _, out, _ = exported
    proc = run_tool('test.py', config, out, '--deploy', 'int8', '--work-dir',
                    tmp / 'test', '--out', tmp / 'masks')
    assert 'mIoU' in proc.stdout + proc.stderr
    assert len(os.listdir(tmp / 'masks')) == 4


@pytest.mark.slow
def test_infer_py_runs_the_artefact(exported):
    tmp, config, _, out, _ = exported
    images = tmp / 'data' / 'images' / 'validation'
    proc = run_tool('infer.py', config, out, images, '--out-dir',
                    tmp / 'infer', '--deploy', 'int8', '--json')
    assert '4 images segmented' in proc.stdout
    assert len(os.listdir(tmp / 'infer' / 'masks')) == 4


@pytest.mark.slow
def test_tools_refuse_int8_with_a_checkpoint_and_contradictions(exported):
    tmp, config, checkpoint, out, _ = exported
    for tool, extra in (('test.py', ['--work-dir', tmp / 'w']),
                        ('infer.py', [tmp / 'data', '--out-dir', tmp / 'o'])):
        proc = run_tool(
            tool, config, checkpoint, *extra, '--deploy', 'int8', check=False)
        assert proc.returncode != 0
        assert 'export_openvino.py' in proc.stderr
        assert '--precision int8' in proc.stderr
        proc = run_tool(
            tool, config, out, *extra, '--deploy', 'bf16', check=False)
        assert proc.returncode != 0
        assert '--deploy bf16' in proc.stderr and 'is int8' in proc.stderr


@pytest.mark.slow
def test_compare_int8_prints_every_variant(exported):
    _, config, checkpoint, _, _ = exported
    proc = run_tool('deployment/compare_int8.py', config, checkpoint,
                    '--shape', '32', '40', '--calib-images', '6', '--images',
                    '4')
    rows = [line for line in proc.stdout.splitlines() if line.startswith('| ')]
    assert rows[1].startswith('| PyTorch fp32 | 100 |')
    assert len(rows) == 2 + 2 + 2 * 6
    assert all(float(row.split('|')[2]) > 80 for row in rows[2:])


@pytest.mark.slow
def test_test_py_refuses_an_artefact_with_a_launcher(exported):
    tmp, config, _, out, _ = exported
    proc = run_tool(
        'test.py',
        config,
        out,
        '--launcher',
        'pytorch',
        '--work-dir',
        tmp / 'w',
        check=False)
    assert proc.returncode != 0
    assert 'one process' in proc.stderr
