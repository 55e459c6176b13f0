"""How well a conditional generator draws the class it is asked for: class accuracy and intra-class FD.

Used by gan_models.quality.metrics on images whose labels are known (generated for a class, or real
and labelled): per class, the share the classifier assigns to that class, and the Frechet distance
to the test images of that class.
"""
from dataclasses import dataclass

import numpy as np

from gan_models.quality.frechet import feature_statistics, frechet_distance


@dataclass
class ClassQuality:
    """How well images match the classes they were generated for (or, for real images, labelled with)."""

    class_accuracy: float  # mean over classes of the share of class-c images the classifier assigns to c
    intra_class_frechet_distance: float  # mean over classes of the Frechet distance to the test images of class c
    per_class_accuracy: list[float]  # the share for each class 0..K-1
    per_class_frechet_distance: list[float]  # the distance for each class 0..K-1


def class_quality(features: np.ndarray, probabilities: np.ndarray, labels: np.ndarray,
                  reference_features: np.ndarray, reference_labels: np.ndarray) -> ClassQuality:
    """ClassQuality of images from their features (N, D), class probabilities (N, K) and labels (N,),
    against reference (test) features (M, D) with their labels (M,). Every class needs >= 2 images in both."""
    accuracies, distances = [], []
    for c in range(probabilities.shape[1]):
        mine, theirs = labels == c, reference_labels == c
        if mine.sum() < 2 or theirs.sum() < 2:
            raise ValueError(f"class {c} has {mine.sum()} images and {theirs.sum()} reference images; "
                             "each class needs at least 2 of both (use more samples)")
        accuracies.append(float((probabilities[mine].argmax(axis=1) == c).mean()))
        distances.append(frechet_distance(*feature_statistics(features[mine]),
                                          *feature_statistics(reference_features[theirs])))
    return ClassQuality(class_accuracy=float(np.mean(accuracies)),
                        intra_class_frechet_distance=float(np.mean(distances)),
                        per_class_accuracy=accuracies, per_class_frechet_distance=distances)
