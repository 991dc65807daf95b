"""HTTP routes: thin wrappers over `service.predict` and the registry."""
