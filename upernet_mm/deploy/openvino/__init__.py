"""The OpenVINO form: an artefact directory holding an IR pair and a JSON
sidecar.

* :mod:`.artefact`: the artefact on disk, read as hostile input; imports
  no OpenVINO;
* :mod:`.export`: :func:`~.export.export_openvino` in fp32, bf16 or int8
  (NNCF), checked against PyTorch;
* :mod:`.runtime`: :func:`~.runtime.load_openvino`, the compiled artefact
  as an image-to-logits callable;
* :mod:`.segmentor`: ``OpenVINOSegmentor``, the registered model that runs
  an artefact in mmseg's inference code.

Only :mod:`.artefact` works without ``openvino`` installed; importing this
package imports none of the others.
"""
