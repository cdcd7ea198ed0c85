"""The build read on demand: rows by their offsets, releases without their texts in memory,
sentences found by place, and a damaged offsets file refused like any damaged file."""
from __future__ import annotations

import shutil

import numpy as np
import orjson
import pytest

from qa.errors import IndexCorruptError
from qa.indexing import store
from qa.indexing.records import Rows, write_rows
from qa.reading.chunking import sentence_spans


def test_rows_read_any_line_by_its_offset(tmp_path):
    rows = [{"n": i, "text": "é" * i + "\n«»"} for i in range(50)] + [{}]
    write_rows(tmp_path / "rows.jsonl", rows)
    read = Rows(tmp_path / "rows.jsonl")
    assert len(read) == 51
    assert read[0] == rows[0] and read[37] == rows[37] and read[-1] == {} and read[10:13] == rows[10:13]
    assert list(read) == rows
    with pytest.raises(IndexError):
        read[51]
    write_rows(tmp_path / "empty.jsonl", [])
    assert len(Rows(tmp_path / "empty.jsonl")) == 0 and list(Rows(tmp_path / "empty.jsonl")) == []


def test_an_index_opens_with_what_a_question_reads(seed_index, seed_settings):
    index = store.load(seed_settings.index)
    on_disk = [orjson.loads(line) for segment in index.segments
               for line in (segment.path / "passages.jsonl").read_bytes().splitlines()]
    assert [p.text for p in index.passages] == [row["text"] for row in on_disk]
    assert index.passages[3].text == on_disk[3]["text"]
    # Every passage's release position, and each release's header, without its text.
    assert [index.documents.headers[i].id for i in index.document_of] == [p.doc_id for p in index.passages]
    for header in index.documents.headers:
        document = index.documents[header.id]
        assert (document.title, document.date, document.source) == (header.title, header.date, header.source)
        assert not hasattr(header, "text")
    assert sorted(index.documents) == sorted(h.id for h in index.documents.headers)


def test_a_passage_holds_the_sentences_inside_it(seed_index, seed_settings):
    index = store.load(seed_settings.index)
    sentences = index.sentences
    rows = list(sentences.rows)
    assert len(rows) == len(sentences.vectors) == len(sentences.start)
    for passage in index.passages:
        inside = [i for i, row in enumerate(rows) if row["doc_id"] == passage.doc_id
                  and passage.start <= row["start"] and row["end"] <= passage.end]
        assert list(sentences.in_passage(passage)) == inside
        assert inside, passage.id
        # What the passage's own text cuts into sentences, at the same places.
        cut = {(passage.start + s.start, passage.start + s.end) for s in sentence_spans(passage.text)}
        assert {(rows[i]["start"], rows[i]["end"]) for i in inside} <= cut
    for doc_id in index.documents:
        found = sentences.of_document(doc_id)
        assert [rows[i]["doc_id"] for i in found] == [doc_id] * len(found)
        assert list(sentences.starts(doc_id)) == sorted(rows[i]["start"] for i in found)
        first = found.start
        assert sentences.row(doc_id, rows[first]["start"]) == first
        assert sentences.row(doc_id, rows[first]["start"] + 1) is None
    assert sentences.of_document("not-a-release") == range(0)


@pytest.mark.parametrize("damage", ["truncated offsets", "offsets of another file", "missing offsets"])
def test_damaged_offsets_are_refused_with_the_file_named(seed_index, seed_settings, tmp_path, damage):
    copy = tmp_path / "index"
    shutil.copytree(seed_settings.index, copy)
    build = next((store.current_build(copy) / "segments").iterdir())
    offsets = build / "passages.offsets.npy"
    if damage == "truncated offsets":
        np.save(offsets, np.load(offsets)[:-3])
    elif damage == "offsets of another file":
        shutil.copy(build / "documents.offsets.npy", offsets)
    else:
        offsets.unlink()
    with pytest.raises(IndexCorruptError) as raised:
        store.load(copy)
    assert "passages.offsets.npy" in str(raised.value)


def test_the_postings_say_which_terms_a_release_holds_as_its_sentences_do(seed_index, seed_settings):
    """The answer stage asks the postings which question terms a release holds anywhere, instead of
    reading all its sentences: both must say the same, for every release and term."""
    index = store.load(seed_settings.index)
    sentences, lexical = index.sentences, index.lexical
    vocabulary = sorted({term for row in sentences.rows for term in row["terms"]} | {"zzzinconnu"})
    positions = np.arange(len(index.documents.headers))
    starts = np.searchsorted(index.document_of, positions, side="left")
    stops = np.searchsorted(index.document_of, positions, side="right")
    held = {term: lexical.in_ranges(term, starts, stops) for term in vocabulary}
    for doc_id in index.documents:
        rows = sentences.of_document(doc_id)
        said = {term for row in sentences.rows[rows.start:rows.stop] for term in row["terms"]}
        at = index.documents.position[doc_id]
        assert said, doc_id
        assert {term for term in vocabulary if held[term][at]} == said, doc_id
    # A release's rows (here its sentence vectors) are one slice of one segment.
    rows = sentences.of_document(next(iter(index.documents)))
    block = sentences.vectors_of(rows)
    assert isinstance(block, np.ndarray) and block.shape == (len(rows), index.encoder.dim)
    assert np.array_equal(block[1], sentences.vectors[rows.start + 1])
