"""tools/analysis_tools/benchmark.py --quick runs and prints every table
(timings are never asserted)."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from helpers import BN, ROOT, make_seg_folder, run_tool, write_config
from upernet_mm.apis import init_model
from upernet_mm.benchmark.sections.model import OPENVINO_MISSING, row_names


@pytest.mark.slow
def test_quick_benchmark_prints_all_tables():
    env = dict(os.environ, CUDA_VISIBLE_DEVICES='')
    tool = osp.join(ROOT, 'tools', 'analysis_tools', 'benchmark.py')
    # one thread: no OpenMP spinning on a busy machine
    out = subprocess.run([sys.executable, tool, '--quick', '--threads', '1'],
                         env=env,
                         capture_output=True,
                         text=True,
                         timeout=2400)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    text = out.stdout
    for title in ('## Decode head alone', '## Whole UPerNet ConvNeXt-atto',
                  '## Training step of', '## Sliding'):
        assert title in text, text
    assert 'GMAC/s' in text
    for row in ('| eval  | transformers', '| train | mmseg',
                '| upernet_mm deploy bf16', '| onnxruntime fp32',
                '| onnxruntime int8', '| openvino fp32', '| openvino bf16',
                '| openvino int8', '| upernet_mm bf16 autocast'):
        assert row in text, text
    assert 'the same conv in int8' in text
    # the tables are filled in: a numeric median on the deploy row
    deploy = next(ln for ln in text.splitlines()
                  if ln.startswith('| upernet_mm deploy fp32'))
    float(deploy.split('|')[3])
    # every model row has its peak memory and pixel agreement
    # (the Markdown separator under the header starts with '| :')
    table = text.split('## Whole UPerNet')[1].split('## ')[0]
    model_rows = [
        ln for ln in table.splitlines() if ln.startswith('| ')
        and not ln.startswith('| :') and 'precision' not in ln
    ]
    expected = row_names(
        with_compile=False, with_onnx=True, with_openvino=not OPENVINO_MISSING)
    assert [row.split('|')[1].strip() for row in model_rows] == expected, \
        model_rows
    for row in model_rows:
        cells = [c.strip() for c in row.strip('|').split('|')]
        assert float(cells[5]) > 0 and 0 <= float(cells[7]) <= 100, row


@pytest.mark.slow
def test_accuracy_section_on_a_small_model(tmp_path):
    """The accuracy section (``--checkpoint``) evaluates every form on the
    config's validation split: a tiny model, tiny data."""
    data = tmp_path / 'data'
    make_seg_folder(data, num_images=6, split='training')
    make_seg_folder(data, num_images=3, split='validation', seed=1)
    config = write_config(tmp_path, 'tiny.py', data_root=data, norm_cfg=BN)
    model = init_model(config)
    checkpoint = str(tmp_path / 'tiny.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), checkpoint)
    out = run_tool(
        osp.join('analysis_tools', 'benchmark.py'),
        '--quick',
        '--threads',
        '1',
        '--sections',
        'accuracy',
        '--checkpoint',
        checkpoint,
        '--config',
        config,
        timeout=2400)
    text = out.stdout
    assert '## Accuracy on the validation split' in text, text
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if len(cells) == 3 and cells[0] and not set(cells[0]) <= {'-', ':'}:
            rows[cells[0]] = cells[1:]
    for name in ('upernet_mm', 'mmseg', 'upernet_mm deploy fp32',
                 'upernet_mm deploy bf16', 'onnxruntime fp32',
                 'onnxruntime int8', 'openvino fp32', 'openvino bf16',
                 'openvino int8'):
        miou, same = (float(v) for v in rows[name])
        assert 0 <= miou <= 100 and 0 <= same <= 100, (name, rows[name])
    # the float forms compute the same function as the original
    for name in ('mmseg', 'upernet_mm deploy fp32', 'onnxruntime fp32',
                 'openvino fp32'):
        assert float(rows[name][1]) >= 99.9, (name, rows[name])
        assert abs(float(rows[name][0]) - float(rows['upernet_mm'][0])) < 0.5
    assert 'int8 calibration:' in text, text
