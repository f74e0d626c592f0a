"""Small file-system helpers over Hadoop's FileSystem API: the same code for local paths and s3:// in Glue.

Reports are small JSON files; local paths are written with plain Python (no Hadoop .crc side files).
"""

from __future__ import annotations

import os

from pyspark.sql import SparkSession


def _is_local(uri: str) -> bool:
    return "://" not in uri or uri.startswith("file://")


def _local(uri: str) -> str:
    return uri[len("file://") :] if uri.startswith("file://") else uri


def _fs_path(spark: SparkSession, uri: str):
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path


def exists(spark: SparkSession, uri: str) -> bool:
    if _is_local(uri):
        return os.path.exists(_local(uri))
    fs, path = _fs_path(spark, uri)
    return bool(fs.exists(path))


def glob(spark: SparkSession, pattern: str) -> list[str]:
    """Paths matching a Hadoop glob (e.g. `<table>/dt=*/ingest_dt=2024-03-01`), sorted."""
    fs, path = _fs_path(spark, pattern)
    statuses = fs.globStatus(path)
    return sorted(str(s.getPath().toString()) for s in statuses) if statuses else []


def delete(spark: SparkSession, uri: str) -> None:
    fs, path = _fs_path(spark, uri)
    if fs.exists(path) and not fs.delete(path, True):
        raise OSError(f"could not delete {uri}")


def write_text(spark: SparkSession, uri: str, text: str) -> None:
    if _is_local(uri):
        target = _local(uri)
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        tmp = f"{target}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
        return
    fs, path = _fs_path(spark, uri)
    stream = fs.create(path, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()
