"""A minimal, independent reader of Parquet's raw footer and page headers
(Thrift compact protocol), for the facts pyarrow does not expose: the
footer's version number, row-group file offsets, exact codec ids (pyarrow
says "LZ4" for LZ4_RAW), logical-type flags, field ids of every schema
element, and the page headers of each column chunk (page count, page types,
level encodings, sizes)."""
from __future__ import annotations

import struct

CODECS = {0: "UNCOMPRESSED", 1: "SNAPPY", 2: "GZIP", 3: "LZO", 4: "BROTLI", 5: "LZ4", 6: "ZSTD",
          7: "LZ4_RAW"}
ENCODINGS = {0: "PLAIN", 2: "PLAIN_DICTIONARY", 3: "RLE", 4: "BIT_PACKED", 5: "DELTA_BINARY_PACKED",
             6: "DELTA_LENGTH_BYTE_ARRAY", 7: "DELTA_BYTE_ARRAY", 8: "RLE_DICTIONARY",
             9: "BYTE_STREAM_SPLIT"}
TYPES = {0: "BOOLEAN", 1: "INT32", 2: "INT64", 3: "INT96", 4: "FLOAT", 5: "DOUBLE", 6: "BYTE_ARRAY",
         7: "FIXED_LEN_BYTE_ARRAY"}
PAGE_TYPES = {0: "DATA_PAGE", 1: "INDEX_PAGE", 2: "DICTIONARY_PAGE", 3: "DATA_PAGE_V2"}


class ThriftError(ValueError):
    pass


class Compact:
    def __init__(self, buf: bytes, pos: int = 0):
        self.buf = buf
        self.pos = pos

    def byte(self) -> int:
        if self.pos >= len(self.buf):
            raise ThriftError("truncated")
        b = self.buf[self.pos]
        self.pos += 1
        return b

    def varint(self) -> int:
        shift = 0
        out = 0
        while True:
            b = self.byte()
            out |= (b & 0x7F) << shift
            if not b & 0x80:
                return out
            shift += 7
            if shift > 70:
                raise ThriftError("varint too long")

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def binary(self) -> bytes:
        n = self.varint()
        if self.pos + n > len(self.buf):
            raise ThriftError("truncated binary")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return bytes(out)

    def value(self, ctype: int):
        if ctype == 1:
            return True
        if ctype == 2:
            return False
        if ctype == 3:
            b = self.byte()
            return b - 256 if b > 127 else b
        if ctype in (4, 5, 6):
            return self.zigzag()
        if ctype == 7:
            if self.pos + 8 > len(self.buf):
                raise ThriftError("truncated double")
            v = struct.unpack_from("<d", self.buf, self.pos)[0]
            self.pos += 8
            return v
        if ctype == 8:
            return self.binary()
        if ctype in (9, 10):
            h = self.byte()
            n = h >> 4
            et = h & 0x0F
            if n == 15:
                n = self.varint()
            if et in (1, 2):  # bools in lists: one byte each
                return [self.byte() == 1 for _ in range(n)]
            return [self.value(et) for _ in range(n)]
        if ctype == 11:
            n = self.varint()
            if n == 0:
                return {}
            kv = self.byte()
            return {self.value(kv >> 4): self.value(kv & 0x0F) for _ in range(n)}
        if ctype == 12:
            return self.struct()
        raise ThriftError(f"bad compact type {ctype}")

    def struct(self) -> dict:
        out = {}
        last = 0
        while True:
            h = self.byte()
            if h == 0:
                return out
            delta = h >> 4
            ctype = h & 0x0F
            fid = last + delta if delta else self.zigzag()
            out[fid] = self.value(ctype)
            last = fid


def read_footer(path) -> dict:
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"PAR1" or data[-4:] != b"PAR1":
        raise ThriftError("bad magic")
    n = struct.unpack_from("<i", data, len(data) - 8)[0]
    start = len(data) - 8 - n
    c = Compact(data, start)
    md = c.struct()
    if c.pos != len(data) - 8:
        raise ThriftError(f"footer length {n} but FileMetaData ends at {c.pos - start}")
    return md


def file_meta(path) -> dict:
    """The footer as plain names (only the fields the tests use)."""
    md = read_footer(path)
    schema = []
    for e in md.get(2, []):
        schema.append({
            "type": TYPES.get(e.get(1)) if 1 in e else None,
            "type_length": e.get(2),
            "repetition": {0: "REQUIRED", 1: "OPTIONAL", 2: "REPEATED"}.get(e.get(3)),
            "name": e.get(4, b"").decode(),
            "num_children": e.get(5),
            "converted_type": e.get(6),
            "scale": e.get(7),
            "precision": e.get(8),
            "field_id": e.get(9),
            "logical": e.get(10),
        })
    rgs = []
    for rg in md.get(4, []):
        cols = []
        for cc in rg.get(1, []):
            m = cc.get(3, {})
            st = m.get(12)
            cols.append({
                "file_offset": cc.get(2),
                "type": TYPES.get(m.get(1)),
                "encodings": [ENCODINGS.get(e, str(e)) for e in m.get(2, [])],
                "path": ".".join(p.decode() for p in m.get(3, [])),
                "codec": CODECS.get(m.get(4), str(m.get(4))),
                "num_values": m.get(5),
                "total_uncompressed_size": m.get(6),
                "total_compressed_size": m.get(7),
                "data_page_offset": m.get(9),
                "index_page_offset": m.get(10),
                "dictionary_page_offset": m.get(11),
                "statistics": None if st is None else {
                    "max": st.get(1), "min": st.get(2), "null_count": st.get(3),
                    "max_value": st.get(5), "min_value": st.get(6),
                    "is_max_value_exact": st.get(7), "is_min_value_exact": st.get(8)},
            })
        rgs.append({"columns": cols, "total_byte_size": rg.get(2), "num_rows": rg.get(3),
                    "file_offset": rg.get(5), "total_compressed_size": rg.get(6), "ordinal": rg.get(7)})
    kv = {}
    for e in md.get(5, []) or []:
        kv[e.get(1, b"").decode()] = e.get(2, b"").decode() if e.get(2) is not None else None
    return {"version": md.get(1), "schema": schema, "num_rows": md.get(3), "row_groups": rgs,
            "key_value_metadata": kv, "created_by": md.get(6, b"").decode() if 6 in md else None}


def column_pages(path, col: dict) -> list[dict]:
    """Page headers of one column chunk (col from file_meta), in order.
    Raises if the pages do not exactly fill total_compressed_size."""
    with open(path, "rb") as f:
        data = f.read()
    start = col["dictionary_page_offset"] if col["dictionary_page_offset"] is not None \
        else col["data_page_offset"]
    end = start + col["total_compressed_size"]
    pos = start
    pages = []
    uncompressed_total = 0
    while pos < end:
        c = Compact(data, pos)
        h = c.struct()
        hlen = c.pos - pos
        ptype = PAGE_TYPES.get(h.get(1), str(h.get(1)))
        page = {"type": ptype, "offset": pos, "header_len": hlen,
                "uncompressed_page_size": h.get(2), "compressed_page_size": h.get(3),
                "crc": h.get(4)}
        if 5 in h:
            d = h[5]
            page.update(num_values=d.get(1), encoding=ENCODINGS.get(d.get(2)),
                        def_encoding=ENCODINGS.get(d.get(3)), rep_encoding=ENCODINGS.get(d.get(4)))
        if 7 in h:
            d = h[7]
            page.update(num_values=d.get(1), encoding=ENCODINGS.get(d.get(2)))
        if 8 in h:
            d = h[8]
            page.update(num_values=d.get(1), num_nulls=d.get(2), num_rows=d.get(3),
                        encoding=ENCODINGS.get(d.get(4)))
        pages.append(page)
        uncompressed_total += hlen + (h.get(2) or 0)
        pos = c.pos + (h.get(3) or 0)
    if pos != end:
        raise ThriftError(f"{col['path']}: pages end at {pos}, chunk ends at {end}")
    for p in pages:
        p["chunk_uncompressed_total"] = uncompressed_total
    return pages
