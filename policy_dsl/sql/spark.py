"""A Spark session configured for the compiled rules (pyspark is the optional extra `spark`).

* spark.sql.decimalOperations.allowPrecisionLoss=false: a DECIMAL product keeps its
  scale (the default cuts products to 6 decimal places to keep integer digits);
  a value that does not fit is then an error, never a silently rounded amount.
* CollapseProject is left out of the optimizer: the query is a chain of layers of
  named columns, and merging them copies each column's expression into every
  later use, which costs minutes of planning and nothing at run time.
"""
from __future__ import annotations

SETTINGS = {
    "spark.sql.decimalOperations.allowPrecisionLoss": "false",
    "spark.sql.optimizer.excludedRules": "org.apache.spark.sql.catalyst.optimizer.CollapseProject",
}


def spark_session(app: str = "policy-sql", master: str = "local[2]"):
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName(app)
    for key, value in {**SETTINGS, "spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
                       "spark.sql.shuffle.partitions": "2"}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
