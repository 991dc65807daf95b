"""TensorFlow Serving's REST API (`/v1/models/...`) over the data plane."""
