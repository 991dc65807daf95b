"""FastAPI prediction service over the exported SavedModels."""

VERSION = "0.2.0"  # the one version: the package's (pyproject.toml), the image tag in deploy/,
# and what every protocol reports (OpenAPI, v2 server metadata)
