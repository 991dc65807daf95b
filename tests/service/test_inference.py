"""The fast path: bucket choice, padding, and XLA answers equal to the plain call."""

import numpy as np

from service.core import inference, loader
from service.core.repository import Repository


def test_bucket_for_picks_the_smallest_that_holds_the_batch():
    buckets = (64, 1, 16, 4)
    assert [inference.bucket_for(n, buckets) for n in (1, 2, 4, 5, 64)] == [1, 4, 4, 16, 64]
    assert inference.bucket_for(65, buckets) is None


def test_pad_to_repeats_the_last_window():
    batch = np.arange(3, dtype=np.float32).reshape(3, 1, 1)
    padded = inference.pad_to(batch, 5)
    assert padded[:, 0, 0].tolist() == [0, 1, 2, 2, 2]
    assert inference.pad_to(batch, 3) is batch


def test_xla_buckets_answer_like_the_plain_function(models_dir):
    repository = Repository(models_dir)
    path = repository.path("stock", repository.listing()["stock"][0])
    spec, plain = loader.load(path, inference.Options(runtime="tensorflow"))
    _, xla = loader.load(path, inference.Options(runtime="tensorflow", xla=True, buckets=(1, 4)))
    assert sorted(xla.compiled) == [1, 4] and not plain.compiled
    rng = np.random.default_rng(0)
    for n in (1, 3, 4, 9):  # 9 exceeds every bucket: the dynamic-shape function
        batch = rng.uniform(1, 2, (n, *spec.input_shape)).astype(np.float32)
        fast, slow = xla(batch), plain(batch)
        assert set(fast) == set(slow) == set(spec.outputs)
        for name, values in slow.items():
            assert fast[name].shape == values.shape and len(values) == n  # padding dropped
            np.testing.assert_allclose(fast[name], values, rtol=1e-5, atol=1e-5)
