"""The service's own REST API: /predict/stock, /predict/sine, /classify, health and models."""
