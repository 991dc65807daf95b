"""`make bench`: the service against its HTTP ceiling and a naive Keras server (README numbers)."""
