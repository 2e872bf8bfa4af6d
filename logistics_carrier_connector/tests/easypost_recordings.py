"""EasyPost's own recordings, replayed with vcrpy through the connector's real HTTP path.

The cassettes are the official clients' (``tests/conformance/easypost``, see SOURCES.md):
easypost-python's are vcrpy cassettes, easypost-go's are go-vcr cassettes, read here into
the same interactions. Several cassettes can be replayed as one (a booking reads the
shipment list of one recording and buys through another). Requests match on method,
scheme, host, path, the label ``file_format`` asked for, and whether credentials are sent:
every API interaction was recorded with an ``Authorization`` header (scrubbed), so a call
without the key does not match; a label file is matched only *without* credentials.

Label files themselves were not recorded (they live on EasyPost's S3 bucket): a label URL
read from a recording is answered by a minimal file of its format when fetched without
credentials, and with S3's ``400 Unsupported Authorization Type`` when fetched with them,
as the bucket answers. Nothing is ever recorded or rewritten (``record_mode="none"``):
a request no recording answers fails the test.
"""

import json
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import vcr
import yaml
from conformance import material, read_bytes
from vcr.request import Request
from vcr.serialize import deserialize
from vcr.serializers import yamlserializer

PARTNER = "easypost"
API = "https://api.easypost.com/v2"
#: what the S3 bucket holding EasyPost's files answers a request carrying credentials
S3_REFUSAL = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidArgument</Code>'
    b"<Message>Unsupported Authorization Type</Message>"
    b"<ArgumentName>Authorization</ArgumentName></Error>"
)
#: a minimal label of each format (the bucket's files were not recorded)
LABEL_FILES = {
    "zpl": b"^XA^FO50,50^A0N,40,40^FDEasyPost conformance^FS^XZ",
    "pdf": b"%PDF-1.4\n%%EOF\n",
}

_LOADED = {}
_ACTIVE = []


def replaying():
    """Whether a published recording is being replayed (vcrpy answers every request)."""
    return bool(_ACTIVE)


def interactions(name):
    """``[(request, response)]`` of a published cassette, whichever client recorded it."""
    text = read_bytes(PARTNER, "cassettes", name).decode("utf-8")
    data = yaml.safe_load(text)
    if data["interactions"] and "uri" in data["interactions"][0]["request"]:
        requests, responses, *_metadata = deserialize(text, yamlserializer)
        return list(zip(requests, responses, strict=True))
    pairs = []  # go-vcr (easypost-go)
    for item in data["interactions"]:
        req, resp = item["request"], item["response"]
        headers = {k: v[0] if isinstance(v, list) else v for k, v in req["headers"].items()}
        pairs.append(
            (
                Request(req["method"], req["url"], req["body"] or None, headers),
                {
                    "status": {"code": resp["code"], "message": resp["status"].split(" ", 1)[-1]},
                    "headers": resp["headers"],
                    "body": {"string": resp["body"].encode("utf-8")},
                },
            )
        )
    return pairs


def responses(name, method=None, path=None):
    """The JSON bodies a cassette recorded, optionally for one method and path."""
    return [
        json.loads(resp["body"]["string"])
        for req, resp in interactions(name)
        if (method is None or req.method == method)
        and (path is None or urlsplit(req.uri).path == path)
        and resp["body"]["string"]
    ]


def label_file(url):
    """The bucket's answers for a label URL: its file without credentials, S3's refusal
    with them."""
    ext = url.rsplit(".", 1)[-1].lower()
    ok = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Content-Type": ["application/octet-stream"]},
        "body": {"string": LABEL_FILES[ext]},
    }
    refused = {
        "status": {"code": 400, "message": "Bad Request"},
        "headers": {"Content-Type": ["application/xml"]},
        "body": {"string": S3_REFUSAL},
    }
    return [
        (Request("GET", url, None, {}), ok),
        (Request("GET", url, None, {"Authorization": "any"}), refused),
    ]


class PublishedRecordings:
    """A vcrpy persister for cassettes assembled in memory; never writes."""

    @classmethod
    def load_cassette(cls, cassette_path, serializer):
        pairs = _LOADED[cassette_path]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    @staticmethod
    def save_cassette(cassette_path, cassette_dict, serializer):
        raise AssertionError("published recordings are never rewritten")


def same_credentials(r1, r2):
    has = [bool(r.headers.get("Authorization") or r.headers.get("authorization")) for r in (r1, r2)]
    assert has[0] == has[1], "credentials sent where the recording had none, or the reverse"


def same_file_format(r1, r2):
    formats = [parse_qs(urlsplit(r.uri).query).get("file_format") for r in (r1, r2)]
    assert formats[0] == formats[1], f"label format {formats[0]} != {formats[1]}"


@contextmanager
def replay(*cassettes, extra=()):
    """Replay ``cassettes`` (file names in ``tests/conformance/easypost/cassettes``) and
    ``extra`` interactions as one recording; yields the vcrpy cassette (``play_count``,
    ``requests``, ``all_played``)."""
    for name in cassettes:
        material(PARTNER, "cassettes", name)  # a clear error if one is missing
    key = "published:" + "+".join(cassettes) + f":{len(_LOADED)}"
    _LOADED[key] = [pair for name in cassettes for pair in interactions(name)] + list(extra)
    recorder = vcr.VCR(
        record_mode="none",
        match_on=["method", "scheme", "host", "path", "file_format", "credentials"],
        ignore_localhost=True,  # Odoo's own HTTP server (webhooks posted by the test)
    )
    recorder.register_persister(PublishedRecordings)
    recorder.register_matcher("credentials", same_credentials)
    recorder.register_matcher("file_format", same_file_format)
    try:
        with recorder.use_cassette(key) as cassette:
            _ACTIVE.append(key)
            try:
                yield cassette
            finally:
                _ACTIVE.remove(key)
    finally:
        _LOADED.pop(key, None)
