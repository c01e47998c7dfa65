from .unified_parsing_loss import image_label_loss, masked_cross_entropy

__all__ = ['image_label_loss', 'masked_cross_entropy']
