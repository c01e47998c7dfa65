"""Helpers of ``tools/analysis_tools/benchmark.py``: interleaved timing (``timing``), peak
memory (``memory``), the FLOP floor (``floor``), the compared models
(``candidates``) and the printed table (``table``)."""
