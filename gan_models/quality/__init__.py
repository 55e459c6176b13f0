"""The sample-quality measure: the per-dataset classifiers, and the classifier-feature Frechet distance and class
coverage computed with them."""
