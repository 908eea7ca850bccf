"""lpr: automatic license plate recognition with morphology, BBPS features and LinearSVC.

Typical use::

    import lpr
    recognizer = lpr.Recognizer()              # the shipped general US model
    for plate in recognizer.recognize(lpr.read_image("car.jpg")):
        print(plate.text, plate.confidence, plate.box)
"""

from lpr.datasets import Dataset, load_dataset

from .classification import CharacterClassifier, CharacterPrediction
from .config import ClassifierConfig, Config, FeatureConfig, LocalizationConfig, RecognitionConfig, SegmentationConfig, VerifierConfig
from .errors import ImageReadError, LabelError, LprError, ModelError, OutputExistsError
from .evaluation import Evaluation, EvaluationSummary, evaluate
from .features import BBPSDescriptor, bbps_features
from .geometry import Box
from .imageio import decode_image, list_images, read_image
from .localization import PlateCandidate, plate_candidates
from .model import Model, load_model, save_model
from .recognizer import CharacterReading, PlateReading, Recognizer, TextCandidate
from .verification import PlateVerifier, ReadingEvidence, train_plate_verifier
from .segmentation import CharacterCrop, Segmentation, segment_characters
from .training import TrainingReport, train_model

__version__ = "0.1.0"

__all__ = [
    "BBPSDescriptor",
    "Box",
    "CharacterClassifier",
    "ClassifierConfig",
    "CharacterCrop",
    "CharacterPrediction",
    "CharacterReading",
    "Config",
    "Dataset",
    "Evaluation",
    "EvaluationSummary",
    "FeatureConfig",
    "ImageReadError",
    "LabelError",
    "LocalizationConfig",
    "LprError",
    "Model",
    "ModelError",
    "OutputExistsError",
    "PlateCandidate",
    "PlateReading",
    "PlateVerifier",
    "ReadingEvidence",
    "RecognitionConfig",
    "Recognizer",
    "Segmentation",
    "SegmentationConfig",
    "TextCandidate",
    "TrainingReport",
    "VerifierConfig",
    "bbps_features",
    "decode_image",
    "evaluate",
    "list_images",
    "load_dataset",
    "load_model",
    "plate_candidates",
    "read_image",
    "save_model",
    "segment_characters",
    "train_model",
    "train_plate_verifier",
]
