from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from upernet_mm.deploy import PRECISIONS, deploy_segmentor
from upernet_mm.registry import HOOKS


@HOOKS.register_module()
class DeployHook(Hook):
    """Put the model in its inference form (see
    :func:`upernet_mm.deploy.deploy_segmentor`) before testing, after the
    runner has loaded the checkpoint.

    Args:
        precision (str): ``'fp32'`` or ``'bf16'``. Default: 'fp32'.
        fold_bn (bool): Fold BatchNorm into convolutions. Default: True.
        channels_last (bool): NHWC memory format. Default: True.
        compile (bool): ``torch.compile`` the backbone and decode head.
            Default: False.
    """

    priority = 'VERY_LOW'

    def __init__(self,
                 precision='fp32',
                 fold_bn=True,
                 channels_last=True,
                 compile=False):
        if precision not in PRECISIONS:
            raise ValueError(f'DeployHook: precision must be one of '
                             f'{PRECISIONS}, got {precision!r}')
        self.kwargs = dict(
            precision=precision,
            fold_bn=fold_bn,
            channels_last=channels_last,
            compile=compile)

    def before_test(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if not hasattr(model, 'backbone') and hasattr(model, 'module'):
            model = model.module  # test-time augmentation (SegTTAModel)
        deploy_segmentor(model, **self.kwargs)
        runner.logger.info(f'DeployHook: model in deploy form {self.kwargs}')
