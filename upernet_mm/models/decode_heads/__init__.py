from .checked_decode_head import CheckedDecodeHead, LabelValueError
from .fcn_head import FCNHead
from .unified_parsing_head import UnifiedParsingHead
from .uper_head import UPerHead

__all__ = [
    'CheckedDecodeHead', 'FCNHead', 'LabelValueError', 'UPerHead',
    'UnifiedParsingHead'
]
