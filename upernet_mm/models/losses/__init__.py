from .class_weighted_cross_entropy import (class_weighted_cross_entropy,
                                           use_class_weighted_cross_entropy)
from .unified_parsing_loss import image_label_loss, masked_cross_entropy

__all__ = [
    'class_weighted_cross_entropy', 'use_class_weighted_cross_entropy',
    'image_label_loss', 'masked_cross_entropy'
]
