"""Train on Apache Spark's ALS when one machine is not enough; explore the factors here.

Re-exports :mod:`mfwidgets.models.spark` (the models floor: what Spark makes is a model).
``read_spark_model`` needs only pyarrow; the rest needs ``pip install 'mfwidgets[spark]'`` and a
Java 17 runtime.
"""

from .models.spark import (
    IdReport,
    SparkFactors,
    SparkStopped,
    from_spark,
    local_spark,
    read_spark_model,
    spark_unavailable,
    train_als,
)

__all__ = [
    "IdReport",
    "SparkFactors",
    "SparkStopped",
    "from_spark",
    "local_spark",
    "read_spark_model",
    "spark_unavailable",
    "train_als",
]
