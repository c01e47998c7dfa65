"""Ablation studies: seeded runs of several configs, their statistics and
tables (the library side of ``tools/ablate.py``)."""
from .schedule import schedule_options
from .stats import NOISE_SIGMAS, compare, summarize
from .study import (RUN_RECORD, RunSpec, StudyEntry, config_fingerprint,
                    entry_parents, find_parents, is_reusable, last_val_metrics,
                    load_run_record, plan_runs, study_entries, study_seeds,
                    write_run_record)
from .table import collect_metric_keys, to_markdown

__all__ = [
    'schedule_options', 'NOISE_SIGMAS', 'compare', 'summarize', 'RUN_RECORD',
    'RunSpec', 'StudyEntry', 'config_fingerprint', 'entry_parents',
    'find_parents', 'is_reusable', 'last_val_metrics', 'load_run_record',
    'plan_runs', 'study_entries', 'study_seeds', 'write_run_record',
    'collect_metric_keys', 'to_markdown'
]
