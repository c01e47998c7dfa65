"""The per-layer benchmark section: our deploy forms and OpenVINO's
performance counters grouped into the same rows (timings never asserted)."""
import argparse

import pytest

from upernet_mm.benchmark.sections import layers
from upernet_mm.benchmark.settings import QUICK


@pytest.mark.slow
@pytest.mark.skipif(layers.ov is None, reason='openvino or onnx missing')
def test_layers_section_groups_openvino_counters(tmp_path):
    opts = argparse.Namespace(reps=1, tmpdir=str(tmp_path))
    tput = dict(fp32=1e9, bf16=1e9)
    title, table, data = layers.run(QUICK['layers'], opts, tput)
    times = data['times']
    assert {'OpenVINO f32', 'OpenVINO bf16', 'deploy fp32'} <= set(times)
    for precision in ('f32', 'bf16'):
        ov_times = times[f'OpenVINO {precision}']
        # the counters land in the module rows, not all in 'other'
        for row in ('backbone.stages.0', 'decode_head.fpn_bottleneck',
                    'decode_head.conv_seg', 'decode_head.lateral_convs.0'):
            assert ov_times[row] > 0, (precision, row, ov_times)
        assert ov_times['total'] > ov_times['other']
    assert '| decode_head.fpn_bottleneck' in table
    assert 'OpenVINO bf16 ms' in table.splitlines()[0]
