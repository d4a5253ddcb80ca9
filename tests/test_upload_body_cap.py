"""The source-map upload route may take bodies past the 256 KB every other request is held to,
but only when the request carries a token: through the real server, whose bridge reads bodies."""

import gzip
import hashlib
import os
import subprocess

import pytest
import requests

from tests.conftest import ERROR_TRACKER, REPO, RunningTracker

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def tracker(tmp_path_factory):
    server = RunningTracker(tmp_path_factory.mktemp("tracker")).start()
    result = subprocess.run([str(ERROR_TRACKER), "createtoken"], env=server.env, cwd=REPO, capture_output=True,
                            text=True, timeout=60, check=True)
    server.token = result.stdout.strip().splitlines()[-1]
    yield server
    server.stop()


def chunk_upload(tracker, headers, size=1024 * 1024):
    chunk = os.urandom(size)  # incompressible: the gzip part is as large as the chunk
    files = {"file_gzip": (hashlib.sha1(chunk).hexdigest(), gzip.compress(chunk))}
    return requests.post(f"{tracker.url}/api/0/organizations/acme/chunk-upload/", files=files, headers=headers, timeout=30)


def test_a_token_may_upload_a_chunk_larger_than_any_report(tracker):
    response = chunk_upload(tracker, {"Authorization": f"Bearer {tracker.token}"})

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}, {"X-API-Key": "test-api-key"}],
                         ids=["none", "junk-bearer", "api-key-header"])
def test_without_a_token_a_large_body_is_refused_before_it_is_read(tracker, headers):
    response = chunk_upload(tracker, headers)

    assert response.status_code == 413
    assert "exceeds" in response.json()["detail"]


def test_a_token_shaped_but_unknown_token_is_refused_once_read(tracker):
    response = chunk_upload(tracker, {"Authorization": "Bearer sntryu_" + "0" * 64})

    assert response.status_code == 401
