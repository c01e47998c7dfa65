"""LogitsSegmentor (upernet_mm.apis.init_logits_model): mmseg's inference
around any images -> logits callable equals the PyTorch model's."""
import numpy as np
import pytest
import torch

from helpers.openvino import run_test_step, write_tiny_openvino_model
from upernet_mm.apis import init_logits_model, init_model
from upernet_mm.deploy.segmentor_logits import SegmentorLogits


@pytest.mark.parametrize('mode', ['whole', 'slide'])
def test_callable_runtime_matches_the_model(tmp_path, mode):
    config, checkpoint = write_tiny_openvino_model(tmp_path, iters=5)
    options = None if mode == 'whole' else {
        'model.test_cfg': dict(
            mode='slide', crop_size=(32, 32), stride=(16, 16))
    }
    model = init_model(config, checkpoint, cfg_options=options)
    graph = SegmentorLogits(model).eval()
    calls = []

    def runtime(images):
        calls.append(tuple(images.shape))
        with torch.no_grad():
            return graph(images).numpy()  # numpy is accepted too

    wrapped = init_logits_model(config, runtime, cfg_options=options)
    assert wrapped.backbone is None
    assert sum(p.numel() for p in wrapped.parameters()) == 0
    rng = np.random.default_rng(0)
    images = [
        rng.integers(0, 255, (48, 72, 3), dtype=np.uint8) for _ in range(2)
    ]
    for e, g in zip(
            run_test_step(model, images), run_test_step(wrapped, images)):
        torch.testing.assert_close(
            g.seg_logits.data, e.seg_logits.data, atol=1e-4, rtol=0)
        assert torch.equal(g.pred_sem_seg.data, e.pred_sem_seg.data)
    assert calls and (mode == 'whole') == (calls[0][2:] == (48, 72))


def test_runtime_with_wrong_output_is_an_error(tmp_path):
    config, _ = write_tiny_openvino_model(tmp_path, iters=0)
    wrapped = init_logits_model(
        config, lambda images: torch.zeros(images.shape[0], 3, 8, 8))
    image = np.zeros((32, 40, 3), np.uint8)
    with pytest.raises(ValueError, match=r'returned \(1, 3, 8, 8\)'):
        run_test_step(wrapped, [image])


def test_init_model_deploy_puts_a_checkpoint_in_deploy_form(tmp_path):
    config, checkpoint = write_tiny_openvino_model(tmp_path, iters=0)
    model = init_model(config, checkpoint, deploy='bf16')
    assert {p.dtype for p in model.backbone.parameters()} == {torch.bfloat16}
    plain = init_model(config, checkpoint)
    assert {p.dtype for p in plain.backbone.parameters()} == {torch.float32}
