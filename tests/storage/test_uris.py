"""One encoding rule for object URIs (``hookline.storage.object_uri``): every back-end's
``url()``, every event parser and the plugin kit's sample events write the same URI for the
same key, on every scheme, ``file://`` included, and ``parse_uri`` gives the key back."""

from __future__ import annotations

from pathlib import Path

import pytest
from hookline.adapters.aws.storage import S3Storage
from hookline.adapters.azure.storage import AzureBlobStorage
from hookline.adapters.cloud import get_cloud
from hookline.adapters.gcp.storage import GCSStorage
from hookline.storage import LocalStorage, object_uri, parse_uri

KEYS = [
    "landing/a b+c.csv",
    "landing/100% été/x.csv",
    "landing/q?x#y&z=1;(2)!'*,@:$~.csv",
    "plain.csv",
]


@pytest.mark.parametrize("key", KEYS)
def test_every_scheme_encodes_a_key_alike(key: str, tmp_path: Path) -> None:
    local = LocalStorage(tmp_path)
    paths = {
        "file": local.url(key).removeprefix(local.uri + "/"),
        "s3": S3Storage("s3://b").url(key).removeprefix("s3://b/"),
        "gs": GCSStorage("gs://b").url(key).removeprefix("gs://b/"),
        "az": AzureBlobStorage("az://b").url(key).removeprefix("az://b/"),
    }
    assert len(set(paths.values())) == 1, paths  # '+' was '%2B' on file:// only
    assert "+" in paths["file"] or "+" not in key
    assert parse_uri(local.url(key)).path == f"{local.root}/{key}"
    for scheme in ("s3", "gs", "az"):
        assert parse_uri(object_uri(scheme, "b", key)) == (scheme, "b", key)


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_an_events_uri_is_its_storage_url(cloud: str) -> None:
    c = get_cloud(cloud)
    for key in KEYS:
        for kind in c.kinds:
            uri = object_uri(c.scheme, "bkt", key)  # '?', '#' and '%' arrive encoded
            [event] = c.parse(c.sample(uri, kind=kind))
            assert event.key == key
            assert event.uri == uri


def test_the_kits_sample_events_use_the_same_rule() -> None:
    from hookline.testing import SAMPLE_KEY, sample_events

    samples = sample_events()
    assert samples["local"].event.uri == object_uri("file", "", f"/srv/hookline/{SAMPLE_KEY}")
    assert "+q1" in samples["local"].event.uri  # as the clouds write it
    for cloud, scheme in (("aws", "s3"), ("gcp", "gs"), ("azure", "az")):
        assert samples[cloud].event.uri == object_uri(scheme, "acme-ml", SAMPLE_KEY)
