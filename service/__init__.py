"""FastAPI prediction service over the exported SavedModels."""

VERSION = "0.2.0"  # the one version every protocol reports (OpenAPI, v2 server metadata)
