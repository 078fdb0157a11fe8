"""Building the judges: their training data and manifest, training, and leave-one-source-out."""
