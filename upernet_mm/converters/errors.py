"""Errors raised when converting between upernet_mm and transformers."""


class ConversionError(ValueError):
    """Base class of the conversion errors."""


class UnsupportedBackboneError(ConversionError):
    """A backbone type that has no counterpart on the other side."""


class UnsupportedOptionError(ConversionError):
    """A config option whose value the other side cannot express."""


class CheckpointMismatchError(ConversionError):
    """A checkpoint whose keys or shapes do not match its config."""
