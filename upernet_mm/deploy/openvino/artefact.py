"""The OpenVINO deploy artefact on disk: an IR pair (``model.xml`` +
``model.bin``) and a JSON sidecar (``upernet_mm_openvino.json``) saying how
to run it.

Nothing here imports OpenVINO: reading and checking a sidecar works without
it. An artefact directory may come from anywhere, so it is read as hostile:
the sidecar is parsed with :func:`json.loads` (never evaluated), every field
is type-checked and only fields listed here are used; the IR files must be
plain names of regular files inside the directory (no path separators, no
symlink leaving it) with sane sizes. OpenVINO's reader then parses the IR,
which holds no code; no OpenVINO extension is ever loaded.
"""
import contextlib
import hashlib
import json
import os
import os.path as osp
import re
from typing import Optional

SIDECAR = 'upernet_mm_openvino.json'
XML = 'model.xml'
BIN = 'model.bin'
FORMAT = 'upernet_mm.openvino'
VERSION = 1
# what --deploy accepts for an artefact, and what each runs as
PRECISIONS = ('fp32', 'bf16', 'int8')
# OpenVINO's INFERENCE_PRECISION_HINT values we allow in a sidecar
RUNTIME_PRECISIONS = ('f32', 'bf16')
PERFORMANCE_HINTS = ('LATENCY', 'THROUGHPUT')
MAX_SIDECAR_BYTES = 1 << 20
MAX_XML_BYTES = 256 << 20
MAX_BIN_BYTES = 8 << 30
_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$')
_SHA256 = re.compile(r'^[0-9a-f]{64}$')


@contextlib.contextmanager
def telemetry_off():
    """Decline OpenVINO's usage statistics in the block.

    ``import openvino`` (its converter package), ``openvino.convert_model``
    and NNCF send events to Google Analytics through ``openvino_telemetry``
    unless a consent file in the home directory says no; all of them decline
    in CI, detected by ``CI=true``, which is set for the duration of the
    block and restored afterwards. Wrap the first import of openvino and
    nncf and every conversion or quantization in it (the telemetry object
    is a singleton: declined once, it stays declined until re-initialised
    by another tool name)."""
    old = os.environ.get('CI')
    os.environ['CI'] = 'true'
    try:
        yield
    finally:
        if old is None:
            os.environ.pop('CI', None)
        else:
            os.environ['CI'] = old


class ArtefactError(ValueError):
    """An OpenVINO artefact directory that cannot be used (missing, malformed
    or unsafe), or one that contradicts what was asked."""


def export_command(precision: str = 'int8') -> str:
    """The command that writes an artefact, for error messages."""
    return ('python tools/deployment/export_openvino.py CONFIG CHECKPOINT '
            f'--precision {precision} --out DIR')


def is_openvino_artefact(path) -> bool:
    """Whether ``path`` is an artefact directory (it holds the sidecar) or
    the ``.xml`` of one."""
    if path is None:
        return False
    path = str(path)
    if osp.isdir(path):
        return osp.isfile(osp.join(path, SIDECAR))
    return path.endswith('.xml') and osp.isfile(
        osp.join(osp.dirname(osp.abspath(path)), SIDECAR))


def artefact_dir(path) -> str:
    """The artefact directory of ``path`` (the directory or its ``.xml``)."""
    path = str(path)
    return path if osp.isdir(path) else osp.dirname(osp.abspath(path))


def sha256_file(path: str, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def _get(data: dict, key: str, kind, where: str, optional: bool = False):
    if key not in data or data[key] is None:
        if optional:
            return None
        raise ArtefactError(f'{where}: the sidecar has no {key!r}')
    value = data[key]
    # bool is an int subclass: refuse it where a number is meant
    if not isinstance(value, kind) or (kind in (int, (int, float))
                                       and isinstance(value, bool)):
        raise ArtefactError(
            f'{where}: {key!r} must be {getattr(kind, "__name__", kind)}, '
            f'got {type(value).__name__}')
    return value


def _choice(value: str, choices, key: str, where: str) -> str:
    if value not in choices:
        raise ArtefactError(f'{where}: {key!r} must be one of {choices}, '
                            f'got {value!r}')
    return value


def _inside(directory: str, name: str, key: str, limit: int,
            where: str) -> str:
    """Path of the regular file ``name`` directly inside ``directory``."""
    if not _NAME.match(name) or name in ('.', '..'):
        raise ArtefactError(
            f'{where}: {key!r} must be a plain file name in the artefact '
            f'directory, got {name!r}')
    path = osp.join(directory, name)
    real_dir = osp.realpath(directory)
    if osp.dirname(osp.realpath(path)) != real_dir:
        raise ArtefactError(f'{where}: {key!r} ({name}) points outside the '
                            'artefact directory')
    if not osp.isfile(path):
        raise ArtefactError(f'{where}: {name} is missing')
    size = osp.getsize(path)
    if not 0 < size <= limit:
        raise ArtefactError(
            f'{where}: {name} has {size} bytes (allowed 1 to {limit})')
    return path


def read_sidecar(path) -> dict:
    """Read and check the sidecar of an artefact.

    Args:
        path (str): The artefact directory or its ``.xml``.

    Returns:
        dict: The sidecar's checked fields, plus ``dir``, ``xml_path`` and
        ``bin_path`` (absolute paths of the checked IR files).

    Raises:
        ArtefactError: If the sidecar or the IR files are missing,
            malformed, too large, or name files outside the directory.
    """
    directory = osp.abspath(artefact_dir(path))
    where = f'OpenVINO artefact {directory}'
    sidecar = osp.join(directory, SIDECAR)
    if not osp.isfile(sidecar):
        raise ArtefactError(f'{where}: no {SIDECAR} (write an artefact with '
                            f'{export_command()})')
    if osp.getsize(sidecar) > MAX_SIDECAR_BYTES:
        raise ArtefactError(f'{where}: {SIDECAR} is larger than '
                            f'{MAX_SIDECAR_BYTES} bytes')
    try:
        with open(sidecar, encoding='utf-8') as f:
            data = json.loads(f.read())
    except (ValueError, UnicodeDecodeError) as error:
        raise ArtefactError(f'{where}: {SIDECAR} is not JSON ({error})')
    if not isinstance(data, dict):
        raise ArtefactError(f'{where}: {SIDECAR} must hold a JSON object')
    if data.get('format') != FORMAT:
        raise ArtefactError(f'{where}: {SIDECAR} is not a {FORMAT} sidecar')
    version = _get(data, 'version', int, where)
    if version != VERSION:
        raise ArtefactError(f'{where}: sidecar version {version} is not '
                            f'supported (this upernet_mm reads {VERSION})')
    precision = _choice(
        _get(data, 'precision', str, where), PRECISIONS, 'precision', where)
    runtime = _get(data, 'runtime', dict, where)
    hint = _choice(
        _get(runtime, 'inference_precision_hint', str, where),
        RUNTIME_PRECISIONS, 'runtime.inference_precision_hint', where)
    perf = _choice(
        _get(runtime, 'performance_hint', str, where), PERFORMANCE_HINTS,
        'runtime.performance_hint', where)
    num_classes = _get(data, 'num_classes', int, where)
    if not 0 < num_classes <= 1 << 16:
        raise ArtefactError(f'{where}: num_classes {num_classes} out of '
                            'range')
    sha = _get(data, 'source_checkpoint_sha256', str, where, optional=True)
    if sha is not None and not _SHA256.match(sha):
        raise ArtefactError(f'{where}: source_checkpoint_sha256 is not a '
                            'hex SHA-256')
    xml_path = _inside(directory, _get(data, 'xml', str, where), 'xml',
                       MAX_XML_BYTES, where)
    bin_path = _inside(directory, _get(data, 'bin', str, where), 'bin',
                       MAX_BIN_BYTES, where)
    if not xml_path.endswith('.xml') or not bin_path.endswith('.bin'):
        raise ArtefactError(f'{where}: the IR files must end in .xml and '
                            '.bin')
    calibration = _get(data, 'calibration', dict, where, optional=True)
    check = _get(data, 'check', dict, where, optional=True)
    # the checked fields, and where the files are
    return dict(
        format=FORMAT,
        version=version,
        precision=precision,
        runtime=dict(inference_precision_hint=hint, performance_hint=perf),
        num_classes=num_classes,
        source_checkpoint_sha256=sha,
        calibration=calibration,
        check=check,
        dir=directory,
        xml_path=xml_path,
        bin_path=bin_path)


def write_sidecar(directory: str, fields: dict) -> str:
    """Write the sidecar (``fields`` plus format, version and the IR file
    names) into ``directory``; return its path."""
    data = dict(format=FORMAT, version=VERSION, xml=XML, bin=BIN)
    data.update(fields)
    path = osp.join(directory, SIDECAR)
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write('\n')
    os.replace(tmp, path)
    return path


def check_deploy_precision(info: dict, deploy: Optional[str]) -> str:
    """The precision to run an artefact at: its own, which ``deploy`` (the
    ``--deploy`` value, None = whatever the artefact is) must equal.

    Raises:
        ArtefactError: If they differ.
    """
    if deploy is not None and deploy != info['precision']:
        raise ArtefactError(
            f'--deploy {deploy} was asked but the OpenVINO artefact '
            f'{info["dir"]} is {info["precision"]}: pass --deploy '
            f'{info["precision"]} (or omit it), or write a {deploy} artefact '
            f'with {export_command(deploy)}')
    return info['precision']


def int8_needs_artefact(checkpoint) -> str:
    """The error message for ``--deploy int8`` with a PyTorch checkpoint."""
    return (f'--deploy int8 runs an OpenVINO int8 artefact, but {checkpoint} '
            'is not one (no directory with '
            f'{SIDECAR}); make it with {export_command("int8")} '
            '--calib-images 300 and pass DIR instead of the checkpoint')
