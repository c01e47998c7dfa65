# In this scope type='CheckpointHook' (the schedules' default_hooks) builds
# upernet_mm's AtomicCheckpointHook: checkpoints and last_checkpoint are
# written to a temporary file, fsynced and renamed, so a kill during a save
# never leaves a truncated file for --resume (mmengine.CheckpointHook is the
# plain one).
default_scope = 'upernet_mm'
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py switches to gloo when CUDA is not available
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
# Checkpoints that load with torch.load(weights_only=True), so --resume works
# on torch >= 2.6 without trusting pickled code.
custom_hooks = [dict(type='WeightsOnlyCheckpointHook')]

tta_model = dict(type='SegTTAModel')
