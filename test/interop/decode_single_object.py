#!/usr/bin/python3
"""Decode one single-object Avro message with Apache Avro's own Python library.

Independent of our TypeScript codec: proves that any Avro implementation can read Portrait's
topics with the .avsc files alone.

    decode_single_object.py SCHEMA.avsc < message.bin

Checks the C3 01 marker, checks that the 8-byte little-endian fingerprint in the header is the
CRC-64-AVRO fingerprint of the schema's Parsing Canonical Form as Apache Avro computes that form,
decodes the body with the schema, checks that no byte is left over, and prints JSON:
{"canonical_form": ..., "fingerprint": "<16 hex digits>", "value": ...}. Bytes values are printed
as "hex:<hex digits>". Exits 1 with a message on stderr on any mismatch.
"""
import io
import json
import struct
import sys

try:
    import avro.io
    import avro.schema
except ImportError:  # pragma: no cover - reported to the test
    sys.stderr.write("Apache Avro's Python library is missing: apt-get install -y python3-avro\n")
    sys.exit(3)

EMPTY = 0xC15D213AA4D7A795
MASK = 0xFFFFFFFFFFFFFFFF


def _table():
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (EMPTY & -(fp & 1))
        table.append(fp & MASK)
    return table


TABLE = _table()


def crc64_avro(data: bytes) -> int:
    """The Rabin fingerprint of the Avro specification ("Schema Fingerprints")."""
    fp = EMPTY
    for b in data:
        fp = (fp >> 8) ^ TABLE[(fp ^ b) & 0xFF]
    return fp & MASK


def library_fingerprint(schema) -> "int | None":
    """Apache Avro's own CRC-64-AVRO, in library versions that have it (1.12+)."""
    method = getattr(schema, "fingerprint", None)
    if method is None:
        return None
    raw = method("CRC-64-AVRO")
    return int.from_bytes(raw, "little") if isinstance(raw, (bytes, bytearray)) else int(raw)


def to_json(value):
    if isinstance(value, (bytes, bytearray)):
        return "hex:" + bytes(value).hex()
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    return value


def fail(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.exit(1)


def main() -> None:
    if len(sys.argv) != 2:
        fail("usage: decode_single_object.py SCHEMA.avsc < message.bin")
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = avro.schema.parse(f.read())
    message = sys.stdin.buffer.read()

    if len(message) < 10 or message[0:2] != b"\xc3\x01":
        fail("not a single-object message: expected C3 01 and an 8-byte fingerprint")
    canonical = schema.canonical_form
    expected = crc64_avro(canonical.encode("utf-8"))
    from_library = library_fingerprint(schema)
    if from_library is not None and from_library != expected:
        fail("our CRC-64-AVRO disagrees with the library's: %016x vs %016x" % (expected, from_library))
    (found,) = struct.unpack("<Q", message[2:10])
    if found != expected:
        fail("fingerprint mismatch: header has %016x, schema's canonical form gives %016x" % (found, expected))

    body = io.BytesIO(message[10:])
    value = avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(body))
    left = len(message) - 10 - body.tell()
    if left != 0:
        fail("%d bytes left after the value" % left)

    json.dump({"canonical_form": canonical, "fingerprint": "%016x" % expected, "value": to_json(value)}, sys.stdout)


if __name__ == "__main__":
    main()
