"""The ONNX form: :func:`.export.export_onnx` writes a graph with dynamic
batch, height and width; :mod:`.adaptive_pool` makes the pyramid pooling
pool by the input size inside the graph. Imports no onnx or onnxruntime
(the exporter is torch's)."""
