from .unified_parsing_metric import UnifiedParsingMetric

__all__ = ['UnifiedParsingMetric']
