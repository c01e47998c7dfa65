"""An OpenVINO artefact directory from outside is hostile: its sidecar is
parsed as JSON and type-checked, never executed or used as a path beyond
plain file names inside the directory; sizes are bounded."""
import json
import os
import os.path as osp
import shutil

import pytest

from upernet_mm.apis.checkpoint_source import (OPENVINO, TRANSFORMERS, WEIGHTS,
                                               checkpoint_source)
from upernet_mm.deploy.openvino.artefact import (SIDECAR, ArtefactError,
                                                 is_openvino_artefact,
                                                 read_sidecar)

CODE = "__import__('os').system('touch {marker}')"


def _artefact(folder, **fields):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / 'model.xml').write_text('<net/>')
    (folder / 'model.bin').write_bytes(b'\0' * 16)
    data = dict(
        format='upernet_mm.openvino',
        version=1,
        precision='int8',
        xml='model.xml',
        bin='model.bin',
        num_classes=4,
        runtime=dict(
            inference_precision_hint='bf16', performance_hint='LATENCY'))
    data.update(fields)
    (folder / SIDECAR).write_text(json.dumps(data))
    return str(folder)


def test_a_valid_sidecar_reads(tmp_path):
    info = read_sidecar(_artefact(tmp_path / 'a'))
    assert info['precision'] == 'int8'
    assert info['xml_path'] == str(tmp_path / 'a' / 'model.xml')
    assert is_openvino_artefact(tmp_path / 'a')
    assert is_openvino_artefact(tmp_path / 'a' / 'model.xml')
    assert not is_openvino_artefact(tmp_path / 'a' / 'model.bin')


@pytest.mark.parametrize('field,value,match', [
    ('xml', '../outside.xml', 'plain file name'),
    ('xml', '/etc/passwd', 'plain file name'),
    ('bin', 'sub/model.bin', 'plain file name'),
    ('bin', '..', 'plain file name'),
    ('precision', 'int8; rm -rf /', 'precision'),
    ('precision', CODE, 'precision'),
    ('num_classes', CODE, 'num_classes'),
    ('num_classes', True, 'num_classes'),
    ('num_classes', 10**9, 'num_classes'),
    ('runtime', dict(
        inference_precision_hint=CODE,
        performance_hint='LATENCY'), 'inference_precision'),
    ('runtime',
     dict(
         inference_precision_hint='f32',
         performance_hint='LATENCY; CPU_BIND_THREAD=1'), 'performance_hint'),
    ('source_checkpoint_sha256', CODE, 'SHA-256'),
    ('version', '1', 'version'),
    ('format', 'pickle', 'sidecar'),
])
def test_hostile_fields_are_refused_and_nothing_runs(tmp_path, field, value,
                                                     match):
    marker = tmp_path / 'PWNED'
    if isinstance(value, str):
        value = value.format(marker=marker)
    elif isinstance(value, dict):
        value = {k: v.format(marker=marker) for k, v in value.items()}
    folder = _artefact(tmp_path / 'a', **{field: value})
    with pytest.raises(ArtefactError, match=match):
        read_sidecar(folder)
    with pytest.raises(ArtefactError):
        checkpoint_source(folder)
    assert not marker.exists()


def test_free_text_fields_are_never_executed(tmp_path):
    """calibration and check are free-form records: kept as data, and code
    in them (or in unknown fields) does not run, even when the model is
    loaded."""
    marker = tmp_path / 'PWNED'
    code = CODE.format(marker=marker)
    folder = _artefact(
        tmp_path / 'a',
        calibration=dict(split=code),
        check=dict(reference=code),
        extra=code,
        __class__=code)
    info = read_sidecar(folder)
    assert info['calibration'] == dict(split=code)
    assert 'extra' not in info and '__class__' not in info
    assert not marker.exists()


def test_ir_files_must_not_leave_the_directory(tmp_path):
    outside = tmp_path / 'secret.bin'
    outside.write_bytes(b'x' * 16)
    folder = tmp_path / 'a'
    _artefact(folder)
    os.remove(folder / 'model.bin')
    os.symlink(outside, folder / 'model.bin')
    with pytest.raises(ArtefactError, match='outside the artefact'):
        read_sidecar(str(folder))


def test_missing_empty_or_huge_files(tmp_path, monkeypatch):
    folder = _artefact(tmp_path / 'a')
    os.remove(osp.join(folder, 'model.bin'))
    with pytest.raises(ArtefactError, match='model.bin is missing'):
        read_sidecar(folder)
    folder = _artefact(tmp_path / 'b')
    open(osp.join(folder, 'model.bin'), 'wb').close()
    with pytest.raises(ArtefactError, match='0 bytes'):
        read_sidecar(folder)
    from upernet_mm.deploy.openvino import artefact as module
    folder = _artefact(tmp_path / 'c')
    monkeypatch.setattr(module, 'MAX_SIDECAR_BYTES', 10)
    with pytest.raises(ArtefactError, match='larger than'):
        read_sidecar(folder)


def test_sidecar_not_json_or_not_an_object(tmp_path):
    folder = _artefact(tmp_path / 'a')
    with open(osp.join(folder, SIDECAR), 'w') as f:
        f.write("{'precision': 'int8'}")  # a Python literal, not JSON
    with pytest.raises(ArtefactError, match='not JSON'):
        read_sidecar(folder)
    with open(osp.join(folder, SIDECAR), 'w') as f:
        f.write('[1, 2]')
    with pytest.raises(ArtefactError, match='JSON object'):
        read_sidecar(folder)


def test_checkpoint_kind_is_decided_once(tmp_path):
    """checkpoint_source: an artefact (directory or .xml, its sidecar
    checked), a transformers directory (DIR or hf://DIR) or weights; int8
    only as an artefact."""
    folder = _artefact(tmp_path / 'a')
    for path in (folder, osp.join(folder, 'model.xml')):
        source = checkpoint_source(path, 'int8')
        assert (source.kind, source.path) == (OPENVINO, folder)
        assert source.artefact['precision'] == 'int8'
    with pytest.raises(ArtefactError, match='--deploy fp32'):
        checkpoint_source(folder, 'fp32')
    hf_dir = tmp_path / 'hf'
    hf_dir.mkdir()
    (hf_dir / 'config.json').write_text('{}')
    for path in (str(hf_dir), f'hf://{hf_dir}'):
        source = checkpoint_source(path)
        assert (source.kind, source.path) == (TRANSFORMERS, str(hf_dir))
        assert source.load_from == f'hf://{hf_dir}'
    weights = str(tmp_path / 'w.pth')
    assert checkpoint_source(weights, 'bf16') == (WEIGHTS, weights, None)
    assert checkpoint_source(None) is None
    with pytest.raises(ArtefactError, match='--deploy int8'):
        checkpoint_source(weights, 'int8')


def test_hostile_ir_is_refused_by_openvino_without_running_anything(tmp_path):
    """A malformed IR beside a valid sidecar: OpenVINO's reader fails with
    an error (no extension is loaded, no Python runs)."""
    pytest.importorskip('openvino')
    from upernet_mm.deploy.openvino.runtime import load_openvino
    marker = tmp_path / 'PWNED'
    folder = _artefact(tmp_path / 'a')
    port = '<port id="{}" precision="FP32"><dim>1</dim></port>'
    with open(osp.join(folder, 'model.xml'), 'w') as f:
        f.write(
            '<?xml version="1.0"?><net name="x" version="11"><layers>'
            '<layer id="0" name="in" type="Parameter" version="opset1">'
            '<data shape="1" element_type="f32"/><output>' + port.format(0) +
            '</output></layer>'
            '<layer id="1" name="p" type="PythonOp" version="extension">'
            f'<data code="{CODE.format(marker=marker)}"/><input>' +
            port.format(0) + '</input><output>' + port.format(1) +
            '</output></layer>'
            '<layer id="2" name="out" type="Result" version="opset1"><input>' +
            port.format(0) + '</input></layer></layers><edges>'
            '<edge from-layer="0" from-port="0" to-layer="1" to-port="0"/>'
            '<edge from-layer="1" from-port="1" to-layer="2" to-port="0"/>'
            '</edges></net>')
    with pytest.raises(Exception, match='PythonOp'):
        load_openvino(folder)
    assert not marker.exists()
    shutil.rmtree(folder)
