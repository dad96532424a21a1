"""Benchmarks for Waybill; ``bench/ingest.py`` measures order ingestion over HTTP."""
