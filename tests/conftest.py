"""Shared pytest fixtures. Ground truth lives in ``../shared/fixtures`` beside the repo."""
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO_ROOT.parent / 'shared' / 'fixtures'

# Tests run single-threaded-ish on the 2-core CI box; keep torch from oversubscribing.
os.environ.setdefault('OMP_NUM_THREADS', '2')


@pytest.fixture(scope='session')
def fixtures_dir():
    """Path of ``../shared/fixtures``; skips (with the reason) when it is absent."""
    if not FIXTURES.is_dir():
        pytest.skip(f'ground-truth fixtures not found at {FIXTURES} '
                    '(expected ../shared/fixtures beside the repository)')
    return FIXTURES


@pytest.fixture(scope='session')
def repo_root():
    return REPO_ROOT
