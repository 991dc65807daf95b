"""The fast path: bucket choice, padding, and XLA answers equal to the plain call."""

import numpy as np
from service.registry import candidate_versions, load_version

from service.core import inference


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
    path = candidate_versions(models_dir / "stock")[0]
    plain = load_version(path)
    xla = load_version(path, inference.Options(xla=True, buckets=(1, 4)))
    assert sorted(xla.serve.compiled) == [1, 4] and not plain.serve.compiled
    rng = np.random.default_rng(0)
    for n in (1, 3, 4, 9):  # 9 exceeds every bucket: the dynamic-shape function
        batch = rng.uniform(1, 2, (n, plain.window, len(plain.features))).astype(np.float32)
        np.testing.assert_allclose(xla(batch), plain(batch), rtol=1e-5, atol=1e-5)
