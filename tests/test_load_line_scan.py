"""The quick line count (byte counts) agrees with the exact numpy scan, or steps aside."""

import random

import pytest

import fundwatch.load.readers as readers


@pytest.mark.parametrize(("chunk", "block"), [(32, 8), (64, 16), (readers.CHUNK_BYTES, readers.LONG_BLOCK)])
def test_line_count_agrees_with_the_exact_scan(tmp_path, monkeypatch, chunk, block):
    rng = random.Random(chunk)
    monkeypatch.setattr(readers, "CHUNK_BYTES", chunk)
    monkeypatch.setattr(readers, "LONG_BLOCK", block)
    counted = stepped_aside = 0
    for i in range(300):
        parts = []
        odd = rng.random() < 0.5  # half the files may hold empty or long lines
        for _ in range(rng.randint(0, 40)):
            r = rng.random() if odd else 1.0
            if r < 0.02:
                parts.append(b"")  # an empty line
            elif r < 0.03:
                parts.append(b"\r")  # a lone CR: empty too
            elif r < 0.05:
                parts.append(b"x" * rng.randint(block, 3 * block))  # long for this block size
            else:
                parts.append(rng.choice([b"a,b", b"1,\xe4\xb8\xad", b"c,d\r"]) * rng.randint(1, max(1, block // 8)))
        data = b"h1,h2\n" + b"\n".join(parts) + (b"\n" if rng.random() < 0.5 else b"")
        path = tmp_path / f"f{i}.csv"
        path.write_bytes(data)
        got = readers._line_count(path)
        lines, _, longest = readers._line_scan(path, 1)
        if got is None:
            stepped_aside += 1
            assert longest >= block  # only a line that may be long sends it to the exact scan
            continue
        counted += 1
        assert got[0] == lines, (data, got, lines)
        assert longest <= got[1] < 2 * block  # a bound on the longest line that sizes DuckDB alike
    assert counted > 50 and stepped_aside > 10  # both paths were exercised
