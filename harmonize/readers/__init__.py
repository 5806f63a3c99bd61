"""Readers: one module per input format, producing Arrow batches of raw values."""

from harmonize.readers.base import Reader, ReadOptions, SourceBatch, reader_for, readers, register

__all__ = ["ReadOptions", "Reader", "SourceBatch", "reader_for", "readers", "register"]
