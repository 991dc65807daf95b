"""The gRPC messages and services this server speaks, generated from the .proto files here.

`scripts/protos.py` (`make protos`) regenerates the *_pb2.py / *_pb2_grpc.py modules, and
tests/service/test_protos.py checks that the committed ones are what it makes. Package,
service, message names and field numbers are upstream's (each .proto file says whose), so
the real clients (tensorflow-serving-api, tritonclient) talk to this server unchanged; no
TensorFlow and neither client package is needed to serve.

Why a pool of their own: protobuf's default descriptor pool refuses a second definition of a
full name (`inference.ModelInferRequest`, `tensorflow.TensorProto`) from a different file,
and the real clients register upstream's files there as soon as they are imported; the tests
run them in the same process as the server. So the generated modules are built into `POOL`
(scripts/protos.py points them at it) instead of the default pool: both sets of classes
coexist and meet only as bytes on the wire. Anything that looks messages up by name (server
reflection, `Any.Unpack` by type URL) must be given `POOL`. The file paths
(service/grpc/protos/...) differ from upstream's as well, so neither pool can mistake one
file for the other.
"""

from google.protobuf import any_pb2, descriptor_pool, wrappers_pb2

POOL = descriptor_pool.DescriptorPool()
for _imported in (any_pb2, wrappers_pb2):  # the well-known types tensorflow_serving.proto uses
    POOL.AddSerializedFile(_imported.DESCRIPTOR.serialized_pb)
