"""The PyTorch deploy form: a trained segmentor made faster in place, same
class and API (:func:`deploy_segmentor`, see
``docs/deploy_and_performance.md``).

* :mod:`.segmentor`: :func:`deploy_segmentor`, which applies the steps below;
* :mod:`.fold_bn`: BatchNorm folded into the convolution before it;
* :mod:`.split_conv`: a convolution over concatenated inputs computed per
  input (UPerHead's ``fpn_bottleneck``);
* :mod:`.onednn`: activations fused into convolutions and linear layers as
  oneDNN post-ops, ConvNeXt's layer scale folded;
* :mod:`.winograd`: Winograd F(m x m, 3 x 3) convolutions for the decode
  head in float32.
"""
from .fold_bn import FoldReport, fold_batchnorm
from .segmentor import PRECISIONS, deploy_segmentor

__all__ = ['FoldReport', 'PRECISIONS', 'deploy_segmentor', 'fold_batchnorm']
