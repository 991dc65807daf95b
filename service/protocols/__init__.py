"""The protocols, each written once and free of any transport: native, TF Serving, v2.

A codec turns its protocol's request (already read from the wire into plain Python and numpy)
into the one core call and the core's answer into the protocol's response; REST routes
(service.api) and gRPC servicers (service.grpc) only frame bytes around it. errors.py maps
every error kind of the core to its HTTP status and gRPC code, in one table.
"""
