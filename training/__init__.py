"""Offline training: data, windows, models, honest evaluation and export."""
