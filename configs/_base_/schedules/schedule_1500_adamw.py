# AdamW (lr 2e-3, weight decay 0.05, none on norms and biases, as in the
# ConvNeXt recipes) with a linear warm-up and a linear decay to 0 over 1500
# iterations, validation at the end and a checkpoint at the middle and the
# end: the quick start's schedule (configs/upernet_convnext.py). Loops and
# hooks are those of schedule_160k.py. A shorter schedule sets its own
# max_iters and warmup_iters and derives its param_scheduler from this one's
# entries (dict(_base_.param_scheduler[0], end=warmup_iters), ...).
_base_ = ['./schedule_160k.py']
max_iters = 1500
warmup_iters = 100
lr = 2e-3
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=lr, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=False,
        begin=0,
        end=warmup_iters),
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        by_epoch=False,
        begin=warmup_iters,
        end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    checkpoint=dict(interval=max_iters // 2, max_keep_ckpts=2))
