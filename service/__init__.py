"""FastAPI prediction service over the exported SavedModels."""
