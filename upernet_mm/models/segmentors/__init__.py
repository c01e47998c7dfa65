from .encoder_decoder import UPerEncoderDecoder, check_test_cfg, slide_windows
from .unified_parsing_segmentor import UnifiedParsingSegmentor

__all__ = [
    'UPerEncoderDecoder', 'UnifiedParsingSegmentor', 'check_test_cfg',
    'slide_windows'
]
