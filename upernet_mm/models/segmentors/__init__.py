from .encoder_decoder import EncoderDecoder, check_test_cfg, slide_windows
from .unified_parsing_segmentor import UnifiedParsingSegmentor

__all__ = [
    'EncoderDecoder', 'UnifiedParsingSegmentor', 'check_test_cfg',
    'slide_windows'
]
