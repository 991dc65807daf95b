"""The model artifact: the one contract between `training/` (which writes a version directory)
and `service/` (which reads it). docs/artifact.md is its human-readable form.

- `artifact.metadata`: metadata.json's schema, the format version, the file names, the tasks;
- `artifact.scorecard`: each model's metric against its naive baseline (numpy only);
- `artifact.series`: the curve tasks' truth and scoring windows;
- `artifact.litert`: `model.tflite` run by LiteRT, as the service and the evaluate command run it.

Nothing here imports FastAPI, gRPC or TensorFlow, so both sides (and the serving image, which
carries no TensorFlow) can import it.
"""

from artifact.metadata import FORMAT, ArtifactError, Metadata, Spec, read

__all__ = ["FORMAT", "ArtifactError", "Metadata", "Spec", "read"]
