"""TF Serving's TensorProto to and from numpy, without TensorFlow.

What `tf.make_ndarray` and `tf.make_tensor_proto` do for the two types this service takes and
gives (DT_FLOAT, DT_DOUBLE): values from `tensor_content` (little-endian, row-major, what
the TF Serving client sends) or from `float_val` / `double_val`, and answers written as
`tensor_content`, as TensorFlow writes a numpy array. The caller has checked the dtype and
that the values fill the shape exactly (TensorFlow would pad or broadcast a short list).
"""

import numpy as np

from service.grpc.protos.tensorflow_pb2 import DT_DOUBLE, DT_FLOAT, TensorProto

DTYPES = {DT_FLOAT: np.dtype("<f4"), DT_DOUBLE: np.dtype("<f8")}
FIELDS = {DT_FLOAT: "float_val", DT_DOUBLE: "double_val"}
OF_NUMPY = {np.dtype(np.float32): DT_FLOAT, np.dtype(np.float64): DT_DOUBLE}


def shape_of(proto: TensorProto) -> list[int]:
    return [d.size for d in proto.tensor_shape.dim]


def to_array(proto: TensorProto) -> np.ndarray:
    """The tensor's values in its shape, as float32 or float64."""
    dtype = DTYPES[proto.dtype]
    if proto.tensor_content:
        values = np.frombuffer(proto.tensor_content, dtype=dtype)
    else:
        values = np.asarray(getattr(proto, FIELDS[proto.dtype]), dtype=dtype)
    return values.reshape(shape_of(proto))


def to_proto(array: np.ndarray) -> TensorProto:
    """An array as TensorFlow writes it: dtype, shape, raw content (float64 stays DT_DOUBLE;
    any other type goes as DT_FLOAT)."""
    array = np.asarray(array)
    dtype = OF_NUMPY.get(array.dtype, DT_FLOAT)
    proto = TensorProto(dtype=dtype, tensor_content=array.astype(DTYPES[dtype]).tobytes())
    for size in array.shape:
        proto.tensor_shape.dim.add(size=size)
    return proto
