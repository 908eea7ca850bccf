"""Model building: labeled plates in, a trained lpr Model out (installed as lpr.training; inference never imports it).

samples: character samples cut from labeled plates; classifier: the LinearSVC over their
features; verifier: the plate scores learned from the model's own scene readings;
model: train_model, which ties them together; crossval: held-out figures by k-fold
cross-validation.
"""

from .config import TrainingConfig
from .model import TrainingReport, train_model

__all__ = ["TrainingConfig", "TrainingReport", "train_model"]
