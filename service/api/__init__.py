"""The HTTP protocols over the data plane: the only layer that imports FastAPI or Starlette."""
