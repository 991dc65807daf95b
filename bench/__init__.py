"""`make bench`: the service against bare FastAPI, its HTTP ceiling and a naive Keras server."""
