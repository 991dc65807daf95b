from training.train import train

TINY = {"epochs": 2, "units": 4, "train_windows": 128, "val_windows": 32, "test_windows": 32}


def test_same_seed_gives_the_same_model():
    first = train("classify", verbose=0, seed=3, **TINY)
    second = train("classify", verbose=0, seed=3, **TINY)
    assert first.history == second.history
    assert first.metadata["metrics"] == second.metadata["metrics"]


def test_another_seed_gives_another_model():
    first = train("classify", verbose=0, seed=3, **TINY)
    other = train("classify", verbose=0, seed=4, **TINY)
    assert first.history != other.history
