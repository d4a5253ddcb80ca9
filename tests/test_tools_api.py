"""The Sentry API routes tools call (`/api/0/…`), through Django: tokens, releases, chunked
uploads and bundle assembly. tests/test_sentry_cli.py runs the real sentry-cli against them."""

import gzip
import hashlib
import io
import json
import re
import zipfile
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from projects.models import ApiToken, Project
from releases.models import ArtifactBundle, BundleFile, Release
from tests.conftest import API_KEY
from tests.factories import project_key


def new_token(name="ci"):
    out = StringIO()
    call_command("createtoken", "--name", name, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


@pytest.fixture
def cli(db):
    """A client holding a token from `createtoken`, as SENTRY_AUTH_TOKEN."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {new_token()}")
    return client


@pytest.fixture
def shop(db):
    return project_key("shop").project


def test_createtoken_prints_a_token_sentry_cli_recognises_and_stores_only_its_digest(db):
    token = new_token("webpack")

    assert re.fullmatch(r"sntryu_[0-9a-f]{64}", token)
    row = ApiToken.objects.get(name="webpack")
    assert row.digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {row.digest, row.hint} and token.startswith(row.hint)


def test_the_api_root_answers_a_token_and_refuses_anyone_else(cli, db):
    assert cli.get("/api/0/").json() == {"version": "0", "auth": {"scopes": ["org:ci", "project:releases"]}, "user": None}
    master = APIClient(HTTP_AUTHORIZATION=f"Bearer {API_KEY}")
    assert master.get("/api/0/").status_code == 200
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer sntryu_" + "0" * 64}, {"HTTP_X_API_KEY": API_KEY},
                    {"HTTP_AUTHORIZATION": f"Basic {API_KEY}"}):
        response = APIClient(**headers).get("/api/0/")
        assert response.status_code == 401, headers
        assert response.json()["detail"]


def test_a_dsn_key_is_not_a_token(shop, db):
    key = project_key("shop")

    response = APIClient(HTTP_AUTHORIZATION=f"Bearer {key.public_key}").get("/api/0/")

    assert response.status_code == 401


def test_a_revoked_token_stops_working(db, admin_client):
    token = new_token("old")
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/0/").status_code == 200

    row = ApiToken.objects.get(name="old")
    admin_client.post("/admin/projects/apitoken/", {"action": "revoke_selected", "_selected_action": [row.pk]})

    assert client.get("/api/0/").status_code == 401


def test_a_token_made_in_the_admin_is_shown_once(db, admin_client):
    response = admin_client.post("/admin/projects/apitoken/add/", {"name": "vite"}, follow=True)

    token = re.search(r'<code id="new-token">(sntryu_[0-9a-f]{64})</code>', response.content.decode())[1]
    assert APIClient(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/0/").status_code == 200
    page = admin_client.get(f"/admin/projects/apitoken/{ApiToken.objects.get(name='vite').pk}/change/").content.decode()
    assert token not in page


@pytest.fixture
def admin_client(client, db):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def test_releases_are_made_and_finalized_as_sentry_cli_does(cli, shop):
    made = cli.post("/api/0/organizations/any-org/releases/", {"version": "shop@1.0.0", "projects": ["shop"]},
                    format="json")
    assert made.status_code == 201
    assert made.json()["version"] == "shop@1.0.0" and made.json()["dateCreated"]
    assert made.json()["projects"] == [{"slug": "shop", "name": "shop"}]

    by_project = cli.post(f"/api/0/projects/acme/{shop.pk}/releases/", {"version": "undefined"}, format="json")
    assert by_project.status_code == 201

    finalized = cli.put("/api/0/organizations/acme/releases/shop@1.0.0/", {"dateReleased": "2026-12-01T10:00:00Z"},
                        format="json")
    assert finalized.status_code == 200 and finalized.json()["dateReleased"] == "2026-12-01T10:00:00Z"
    assert cli.get("/api/0/projects/acme/shop/releases/shop@1.0.0/").json()["version"] == "shop@1.0.0"
    assert sorted(r["version"] for r in cli.get("/api/0/projects/acme/shop/releases/").json()) == [
        "shop@1.0.0", "undefined"
    ]
    assert set(Release.objects.values_list("version", flat=True)) == {"shop@1.0.0", "undefined"}
    assert cli.get("/api/0/organizations/acme/releases/2.0/").status_code == 404


def test_a_release_for_an_unknown_project_is_refused(cli, shop):
    response = cli.post("/api/0/organizations/acme/releases/", {"version": "1", "projects": ["nope"]}, format="json")

    assert response.status_code == 400
    assert "nope" in response.json()["detail"]


def test_chunk_upload_options_are_what_sentry_cli_needs(cli):
    options = cli.get("/api/0/organizations/acme/chunk-upload/").json()

    assert options["url"] == "/api/0/organizations/acme/chunk-upload/"
    assert options["hashAlgorithm"] == "sha1" and options["compression"] == ["gzip"]
    assert {"release_files", "artifact_bundles_v2"} <= set(options["accept"])
    assert all(isinstance(options[k], int) for k in ("chunkSize", "chunksPerRequest", "maxRequestSize", "concurrency"))
    toolkit = cli.get("/api/0/organizations/acme/chunk-upload/",
                      HTTP_USER_AGENT="sentry-cli/0.49.0 (linux-x64) node/20.20.2").json()
    assert toolkit["url"].startswith("http") and toolkit["url"].endswith("/api/0/organizations/acme/chunk-upload/")


def bundle_bytes(debug_id="36b94a61-1360-5e4e-964b-549afad91285", minified=b"function a(){throw new Error}a();",
                 sourcemap=b'{"version":3,"sources":["src/a.js"],"names":[],"mappings":"AAAA"}'):
    buffer = io.BytesIO()
    buffer.write(b"SYSB\x02\x00\x00\x00")
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("files/_/_/app.min.js", minified)
        archive.writestr("files/_/_/app.min.js.map", sourcemap)
        archive.writestr("manifest.json", json.dumps({"files": {
            "files/_/_/app.min.js": {"type": "minified_source", "url": "~/static/app.min.js",
                                     "headers": {"debug-id": debug_id, "sourcemap": "app.min.js.map"}},
            "files/_/_/app.min.js.map": {"type": "source_map", "url": "~/static/app.min.js.map",
                                         "headers": {"Debug-Id": debug_id}},
        }}))
    return buffer.getvalue()


def sha1(data):
    return hashlib.sha1(data).hexdigest()


def upload(cli, chunks, field="file_gzip"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    files = [SimpleUploadedFile(sha1(c), gzip.compress(c) if field == "file_gzip" else c) for c in chunks]
    return cli.post("/api/0/organizations/acme/chunk-upload/", {field: files}, format="multipart")


def assemble(cli, data, chunks, **body):
    return cli.post("/api/0/organizations/acme/artifactbundle/assemble/",
                    {"checksum": sha1(data), "chunks": [sha1(c) for c in chunks], "projects": ["shop"], **body},
                    format="json").json()


def test_assemble_names_the_missing_chunks_then_stores_the_bundle_once(cli, shop):
    data = bundle_bytes()
    chunks = [data[:300], data[300:]]

    first = assemble(cli, data, chunks, version="1.0.0")
    assert first == {"state": "not_found", "missingChunks": [sha1(c) for c in chunks], "detail": None}
    assert upload(cli, chunks[:1]).status_code == 200
    assert assemble(cli, data, chunks)["missingChunks"] == [sha1(chunks[1])]
    assert upload(cli, chunks[1:], field="file").status_code == 200

    assert assemble(cli, data, chunks, version="1.0.0") == {"state": "ok", "missingChunks": [], "detail": None}
    assert assemble(cli, data, chunks, version="1.0.0")["state"] == "ok"

    [bundle] = ArtifactBundle.objects.all()
    assert (bundle.project, bundle.release, bundle.file_count, bundle.size) == (shop, "1.0.0", 2, len(data))
    files = {f.file_type: f for f in BundleFile.objects.all()}
    assert files["source_map"].debug_id == files["minified_source"].debug_id == "36b94a61-1360-5e4e-964b-549afad91285"
    assert (files["minified_source"].url, files["minified_source"].basename) == ("~/static/app.min.js", "app.min.js")


@pytest.mark.parametrize(
    "chunk, name, detail",
    [(b"abc", "0" * 40, "not named by its SHA-1"), (b"abc", "not-a-sha", "not named by its SHA-1")],
)
def test_a_chunk_not_named_by_its_sha1_is_refused(cli, chunk, name, detail):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = cli.post("/api/0/organizations/acme/chunk-upload/", {"file": [SimpleUploadedFile(name, chunk)]},
                        format="multipart")

    assert response.status_code == 400
    assert detail in response.json()["detail"]


def test_chunks_that_do_not_make_a_bundle_are_an_error_state(cli, shop):
    data = b"not a zip at all"
    upload(cli, [data])

    result = assemble(cli, data, [data])

    assert result["state"] == "error" and "Not a readable bundle" in result["detail"]
    assert result["missingChunks"] == []


def test_assembling_for_an_unknown_project_is_an_error_state(cli, shop):
    data = bundle_bytes()
    upload(cli, [data])

    result = cli.post("/api/0/organizations/acme/artifactbundle/assemble/",
                      {"checksum": sha1(data), "chunks": [sha1(data)], "projects": ["nope"]}, format="json").json()

    assert result["state"] == "error" and "nope" in result["detail"]
    assert not Project.objects.filter(name="nope").exists()


def test_a_bundle_past_the_projects_cap_is_refused(cli, shop, settings):
    data = bundle_bytes()
    upload(cli, [data])
    settings.MAX_PROJECT_BUNDLE_BYTES = len(data) - 1

    result = assemble(cli, data, [data])

    assert result["state"] == "error" and "keeps at most" in result["detail"]
    assert ArtifactBundle.objects.count() == 0


def test_retention_removes_bundles_no_report_used_and_leftover_chunks(cli, shop, settings):
    from datetime import timedelta

    from django.utils import timezone

    from releases.models import UploadChunk
    from releases.uploads import purge_unused_bundles

    old, used, fresh = (bundle_bytes(debug_id=f"{n}" * 8 + "-0000-0000-0000-000000000000") for n in (1, 2, 3))
    for data in (old, used, fresh):
        upload(cli, [data])
        assert assemble(cli, data, [data])["state"] == "ok"
    long_ago = timezone.now() - timedelta(days=settings.RETENTION_DAYS + 1)
    ArtifactBundle.objects.filter(checksum__in=[sha1(old), sha1(used)]).update(created_at=long_ago)
    ArtifactBundle.objects.filter(checksum=sha1(used)).update(last_used_at=timezone.now())
    UploadChunk.objects.filter(checksum=sha1(fresh)).update(created_at=long_ago)

    assert purge_unused_bundles() == 1

    assert set(ArtifactBundle.objects.values_list("checksum", flat=True)) == {sha1(used), sha1(fresh)}
    assert not UploadChunk.objects.filter(checksum=sha1(fresh)).exists()
    assert BundleFile.objects.count() == 4


def test_the_project_page_lists_its_bundles_with_size_and_release(cli, shop, admin_client):
    data = bundle_bytes()
    upload(cli, [data])
    assemble(cli, data, [data], version="shop@2.0.0")

    page = admin_client.get(f"/admin/projects/project/{shop.pk}/change/").content.decode()

    from django.template.defaultfilters import filesizeformat

    assert "Source-map bundles" in page and "shop@2.0.0" in page and str(filesizeformat(len(data))) in page
    assert admin_client.get("/admin/releases/artifactbundle/").status_code == 200
    assert admin_client.get("/admin/releases/release/").status_code == 200
