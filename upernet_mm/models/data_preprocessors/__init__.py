from .unified_parsing_data_preprocessor import UnifiedParsingDataPreProcessor

__all__ = ['UnifiedParsingDataPreProcessor']
