"""What ``tools/analysis_tools/benchmark.py`` runs: one module per section
in ``sections`` (head, model, layers, train, slide, accuracy; each says in
its docstring what it compares), their sizes in ``settings``, and the
helpers they share: interleaved timing (``timing``), peak memory
(``memory``), the FLOP floor (``floor``), the compared models
(``candidates``), per-layer times (``layer_profile``) and the printed table
(``table``)."""
