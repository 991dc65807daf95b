"""The service's own .proto files: the committed generated modules are what they make, and
every name and field number in them is upstream's, read from the real clients' modules
(tensorflow-serving-api, tritonclient), which register upstream's files in protobuf's
default pool while the service's live in a pool of their own (service/grpc/protos)."""

import importlib.util
from pathlib import Path

import pytest
from google.protobuf import descriptor_pool

from service.grpc import protos
from service.grpc.protos import (
    inference_pb2,
    tensorflow_error_pb2,
    tensorflow_pb2,
    tensorflow_serving_pb2,
)

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("protos_script", ROOT / "scripts" / "protos.py")
script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(script)

OURS = (tensorflow_pb2, tensorflow_error_pb2, tensorflow_serving_pb2, inference_pb2)


def upstream_pool() -> descriptor_pool.DescriptorPool:
    """The default pool, once the real clients have registered upstream's definitions."""
    pytest.importorskip("tensorflow_serving.apis.prediction_service_pb2")
    pytest.importorskip("tensorflow_serving.apis.model_service_pb2")  # and tensorflow.error
    pytest.importorskip("tritonclient.grpc.service_pb2")
    return descriptor_pool.Default()


def test_committed_modules_are_what_the_proto_files_make(tmp_path):
    made = script.generate(tmp_path)
    assert {p.name for p in made} == {p.name for p in (ROOT / script.PROTOS).glob("*_pb2*.py")}
    for path in made:
        committed = ROOT / script.PROTOS / path.name
        assert committed.read_bytes() == path.read_bytes(), f"{committed}: run `make protos`"


def test_generated_modules_live_in_their_own_pool():
    for module in OURS:
        assert module.DESCRIPTOR.pool is protos.POOL
    name = inference_pb2.ModelInferRequest.DESCRIPTOR.full_name
    assert protos.POOL.FindMessageTypeByName(name) is inference_pb2.ModelInferRequest.DESCRIPTOR


def field_type(field) -> str:
    kind = field.message_type or field.enum_type
    return kind.full_name if kind else str(field.type)


def check_message(ours, theirs) -> None:
    assert ours.full_name == theirs.full_name
    for field in ours.fields:
        other = theirs.fields_by_name.get(field.name)
        assert other is not None, f"{ours.full_name}.{field.name} is not upstream's"
        where = f"{ours.full_name}.{field.name}"
        assert field.number == other.number, where
        assert field_type(field) == field_type(other), where
        assert field.is_repeated == other.is_repeated, where
        assert (field.containing_oneof is None) == (other.containing_oneof is None), where
    for nested in ours.nested_types:
        check_message(nested, theirs.nested_types_by_name[nested.name])
    for enum in ours.enum_types:
        check_enum(enum, theirs.enum_types_by_name[enum.name])


def check_enum(ours, theirs) -> None:
    assert ours.full_name == theirs.full_name
    for value in ours.values:
        assert theirs.values_by_name[value.name].number == value.number, value.name


@pytest.mark.parametrize("module", OURS, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_names_and_field_numbers_are_upstreams(module):
    pool = upstream_pool()
    file = module.DESCRIPTOR
    assert file.message_types_by_name or file.enum_types_by_name
    for message in file.message_types_by_name.values():
        check_message(message, pool.FindMessageTypeByName(message.full_name))
    for enum in file.enum_types_by_name.values():
        check_enum(enum, pool.FindEnumTypeByName(enum.full_name))


@pytest.mark.parametrize("module", [tensorflow_serving_pb2, inference_pb2])
def test_services_and_methods_are_upstreams(module):
    pool = upstream_pool()
    assert module.DESCRIPTOR.services_by_name
    for service in module.DESCRIPTOR.services_by_name.values():
        theirs = pool.FindServiceByName(service.full_name)
        for method in service.methods:
            other = theirs.methods_by_name[method.name]
            assert method.input_type.full_name == other.input_type.full_name
            assert method.output_type.full_name == other.output_type.full_name
