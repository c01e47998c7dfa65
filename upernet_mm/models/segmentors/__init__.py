from .encoder_decoder import EncoderDecoder, check_test_cfg, slide_windows

__all__ = ['EncoderDecoder', 'check_test_cfg', 'slide_windows']
