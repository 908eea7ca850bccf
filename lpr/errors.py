"""Errors lpr raises for bad input; each carries a one-line message meant for the user."""


class LprError(Exception):
    """Base class of every error caused by the user's input rather than a bug in lpr."""


class ImageReadError(LprError):
    """An image could not be read: missing, unreadable, not an image, too large or too small."""


class ModelError(LprError):
    """A model file is missing, malformed, of another format version, or not a model."""


class LabelError(LprError):
    """A label file (labels.csv or an OpenALPR .txt) is malformed."""


class OutputExistsError(LprError):
    """Writing would overwrite an existing file that lpr must not destroy."""


class OutputWriteError(LprError):
    """An output file could not be written (no permission, no space, a folder in the way)."""
