"""Datasets and data transforms of upernet_mm."""
