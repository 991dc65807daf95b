"""service/grpc/tensors.py reads and writes TensorProto as TensorFlow does (the test may
import TensorFlow; the service does not): the same values, dtype and shape both ways."""

import numpy as np
import pytest

from service.grpc import tensors
from service.grpc.protos import tensorflow_pb2

tf = pytest.importorskip("tensorflow")

SHAPE = (2, 3, 5)


def values(dtype) -> np.ndarray:
    return np.random.default_rng(7).normal(size=SHAPE).astype(dtype)


def ours(theirs) -> tensorflow_pb2.TensorProto:
    return tensorflow_pb2.TensorProto.FromString(theirs.SerializeToString())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_reads_tensor_content_as_tensorflow_does(dtype):
    proto = tf.make_tensor_proto(values(dtype))
    assert proto.tensor_content  # the form the TF Serving client sends
    got = tensors.to_array(ours(proto))
    assert got.dtype == dtype and got.shape == SHAPE
    np.testing.assert_array_equal(got, tf.make_ndarray(proto))


LISTS = [(np.float32, "float_val"), (np.float64, "double_val")]


@pytest.mark.parametrize(("dtype", "field"), LISTS)
def test_reads_value_lists_as_tensorflow_does(dtype, field):
    data = values(dtype)
    proto = tf.make_tensor_proto(data)
    proto.ClearField("tensor_content")
    getattr(proto, field).extend(data.ravel().tolist())
    got = tensors.to_array(ours(proto))
    np.testing.assert_array_equal(got, tf.make_ndarray(proto))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_writes_what_tensorflow_reads_back(dtype):
    data = values(dtype)
    proto = tensors.to_proto(data)
    theirs = tf.make_tensor_proto(data)
    assert proto.dtype == theirs.dtype
    back = tf.make_ndarray(type(theirs).FromString(proto.SerializeToString()))
    assert back.dtype == dtype and back.shape == SHAPE
    np.testing.assert_array_equal(back, data)
