# The schedules' checkpoint hook is upernet_mm's ResumableCheckpointHook:
# checkpoints load with weights_only=True, carry every rank's random state
# (--resume continues exactly) and are written to a temporary file, fsynced
# and renamed, so a kill during a save never leaves a truncated file.
default_scope = 'upernet_mm'
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py switches to gloo when CUDA is not available; a rank
    # waits at most env_cfg.dist_cfg.timeout seconds for the others (600
    # unless set here) and a dataloader with workers at most its `timeout`
    # for a batch (300): upernet_mm/engine/timeouts.py
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False

tta_model = dict(type='SegTTAModel')
