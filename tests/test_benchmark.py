"""tools/analysis_tools/benchmark.py --quick runs and prints every table (timings are never
asserted)."""
import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.mark.slow
def test_quick_benchmark_prints_all_tables():
    env = dict(os.environ, CUDA_VISIBLE_DEVICES='')
    out = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'analysis_tools', 'benchmark.py'), '--quick'],
        env=env, capture_output=True, text=True, timeout=1200)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    text = out.stdout
    for title in ('## Decode head alone', '## Whole UPerNet ConvNeXt-atto',
                  '## Training step of', '## Sliding'):
        assert title in text, text
    assert 'GMAC/s' in text
    for row in ('| eval  | transformers', '| train | mmseg',
                '| upernet_mm deploy bf16', '| onnxruntime',
                '| upernet_mm bf16 autocast'):
        assert row in text, text
    # the tables are filled in: a numeric median on the deploy row
    deploy = next(ln for ln in text.splitlines()
                  if ln.startswith('| upernet_mm deploy fp32'))
    float(deploy.split('|')[3])
