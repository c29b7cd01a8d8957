"""The seat assistant's category classifier, pure: features, training, the artefact without pickle, inference,
abstention, department types and the evaluation figures (a small model trained on the catalog's own names)."""

from __future__ import annotations

import io
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

from gridgov_event_intake.assist import evaluate, training
from gridgov_event_intake.assist.departments import (
    department_by_summed_probability,
    department_name,
    department_of,
    seed_department_types,
)
from gridgov_event_intake.assist.model import Artefact, ArtefactInvalid, Classifier, tfidf_row
from gridgov_event_intake.assist.tokenise import Tokeniser, has_cjk, has_signal, normalise


@pytest.fixture(scope="module")
def small():
    """A model of the catalog's own texts (a few per code): artefact bytes and training facts."""
    artefact, facts = training.fit(training.catalog_examples(), training.catalog_words(), "t1")
    return artefact.to_bytes(), facts


@pytest.fixture(scope="module")
def classifier(small):
    c = Classifier.from_bytes(small[0])
    c.warm()
    return c


def test_features_hold_user_words_whole_and_character_ngrams():
    tok = Tokeniser(["占道经营"])
    feats = tok.features("门口有人占道经营，３号楼")
    assert "w:占道经营" in feats
    assert {"c:占道", "c:道经营", "c:0号楼"} <= set(feats)  # digits become 0; full-width normalised
    assert normalise("ＡＢ１２") == "ab0"


def test_features_hold_single_chinese_characters_apart_from_words_and_ngrams():
    feats = Tokeniser().features("水管漏水 ab")
    assert {"u:水", "u:管", "u:漏"} <= set(feats) and feats.count("u:水") == 2
    assert not any(f.startswith("u:") and not has_cjk(f[2:]) for f in feats)  # no Latin letter or digit alone
    assert not has_signal("u:漏") and has_signal("c:漏水") and has_signal("w:漏水")


def _artefact(features: list[str]) -> Artefact:
    """A two-code artefact over ``features``, every feature pointing to the second code."""
    n = len(features)
    return Artefact(version="t", features=features, idf=np.ones(n, np.float32),
                    coef=np.tile(np.array([[0.0, 1.0]], np.float32), (n, 1)), intercept=np.zeros(2, np.float32),
                    classes=["01001", "11008"], temperature=0.1, threshold=0.5, user_words=[])


def test_single_characters_alone_are_no_signal_but_count_beside_a_word_or_ngram():
    only_chars = Classifier(_artefact(["u:灯", "u:路"]))
    assert only_chars.classify("灯嗯路").reason == "no_signal"  # known characters, no known word or n-gram
    with_gram = Classifier(_artefact(["c:路灯", "u:灯", "u:路"]))
    result = with_gram.classify("路灯嗯")
    assert result.reason == "ok" and result.suggestions[0].code == "11008"
    idx, _ = with_gram.vector("路灯嗯")
    assert sorted(idx.tolist()) == [0, 1, 2]  # the characters join the row once a gram gives a signal


def test_artefact_without_single_character_features_still_classifies_the_same():
    # A model trained before single characters were features (#17) sees only its own features: the new ones
    # are unknown to it and dropped, so its answers do not change.
    old = Classifier(_artefact(["c:路灯"]))
    idx, weights = old.vector("路灯坏了")
    assert idx.tolist() == [0] and np.allclose(weights, [1.0])


def test_has_cjk_tells_chinese_from_other_scripts():
    assert has_cjk("路灯坏了") and not has_cjk("street light broken") and not has_cjk("фонарь сломан")


def test_classify_catalog_text_suggests_its_code_first_with_calibrated_top3(classifier):
    result = classifier.classify("路边有无照经营的游商在卖东西")
    assert result.model_version == "t1" and result.reason in ("ok", "low_confidence")
    assert len(result.suggestions) == 3
    confidences = [s.confidence for s in result.suggestions]
    assert confidences == sorted(confidences, reverse=True) and 0 < sum(confidences) <= 1.0001
    assert result.suggestions[0].code == "05001"  # 05001 无照经营游商


@pytest.mark.parametrize("text", ["street light is broken", "Фонарь не работает", "12345 !!!", "🙂🙂"])
def test_classify_other_script_abstains_with_no_signal(classifier, text):
    result = classifier.classify(text)
    assert result.abstained and result.reason == "no_signal" and result.suggestions == []


def test_classify_unknown_chinese_words_abstains_with_no_signal(classifier):
    assert classifier.classify("嗯嗯").reason == "no_signal"


def test_classify_blank_abstains_as_empty_and_without_model_as_no_model(classifier):
    assert classifier.classify("  \n").reason == "empty"
    none = Classifier(None).classify("路灯坏了")
    assert none.abstained and none.reason == "no_model" and none.model_version is None


def test_low_confidence_abstains_but_still_ranks(small):
    artefact = Artefact.from_bytes(small[0])
    artefact.threshold = 1.01  # nothing is ever this sure
    result = Classifier(artefact).classify("路灯不亮")
    assert result.abstained and result.reason == "low_confidence" and len(result.suggestions) == 3


def test_artefact_round_trips_as_npz_without_pickle(small):
    data, _ = small
    names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    assert names == {"header.npy", "idf.npy", "coef.npy", "intercept.npy"}
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        assert npz["coef"].dtype == np.float32
    again = Artefact.from_bytes(data)
    assert again.version == "t1" and len(again.classes) == 112 and again.coef.shape == (len(again.features), 112)
    assert again.to_bytes() == data


@pytest.mark.parametrize("bad", [b"", b"not an npz", b"PK\x03\x04garbage"])
def test_artefact_from_other_bytes_is_refused(bad):
    with pytest.raises(ArtefactInvalid):
        Artefact.from_bytes(bad)


def test_inference_matches_the_training_tfidf(small):
    artefact = Artefact.from_bytes(small[0])
    tok = Tokeniser(artefact.user_words)
    text = "垃圾桶满了没人清理"
    vec = training.Vectoriser(artefact.features, artefact.idf)
    matrix = vec.transform([tok.features(text)]).toarray()[0]
    idx, weights = Classifier(artefact, tok).vector(text)
    assert np.allclose(matrix[idx], weights, atol=1e-6) and np.count_nonzero(matrix) == idx.size
    assert abs(float(np.dot(weights, weights)) - 1.0) < 1e-5
    assert tfidf_row({}, artefact.idf)[0].size == 0  # type: ignore[arg-type]


def test_inference_never_imports_scikit_learn(small, tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(small[0])
    code = ("import sys; from gridgov_event_intake.assist.model import Classifier; "
            f"c = Classifier.from_bytes(open({str(path)!r}, 'rb').read()); c.classify('路灯坏了'); "
            "print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_classify_p95_latency_is_under_10_ms(classifier):
    texts = [t for t, _ in training.catalog_examples()][:200]
    times = []
    for text in texts:
        # CPU time of this thread: one core's work per text, whatever else the machine runs meanwhile.
        started = time.thread_time()
        classifier.classify(text * 3)
        times.append(time.thread_time() - started)
    assert np.percentile(times, 95) < 0.010


def test_fit_chooses_threshold_and_temperature_on_held_out_training_texts(small):
    _, facts = small
    assert facts["held_out"] > 0 and 0 <= facts["threshold"] <= training.THRESHOLD_CAP
    assert facts["temperature"] > 0 and facts["codes"] == 112


def test_fit_refuses_a_single_code():
    with pytest.raises(ValueError, match="two codes"):
        training.fit([("路灯坏了", "11008"), ("路灯不亮", "11008")], [], "x")


def test_split_holds_out_a_share_of_every_code_and_nothing_of_a_lone_text():
    examples = [(f"文本{i}", "01001") for i in range(20)] + [("独一条", "01002")]
    kept, held = training.split(examples, 0.15, seed=1)
    assert len(held) == 3 and ("独一条", "01002") in kept and not set(kept) & set(held)


def test_department_of_inherits_the_major_class_type():
    assert department_of("01001") == "urban-management"
    assert department_of("22001") == "fire-safety"
    assert department_of("03001") == "housing"
    assert department_of("99001") is None
    assert department_name("water") == "水务局"
    assert len([c for c in seed_department_types() if len(c) == 5]) == 112


def test_department_by_summed_probability_sums_a_bureaus_codes():
    # 22001 alone is the likeliest code, but 21001 and 21004 together make emergency management likelier.
    classes = ["22001", "21001", "21004", "01001"]
    department, total = department_by_summed_probability(classes, [0.4, 0.3, 0.25, 0.05])
    assert department == "emergency-management" and total == pytest.approx(0.55)
    assert department_by_summed_probability(classes, [0.7, 0.1, 0.1, 0.1])[0] == "fire-safety"
    assert department_by_summed_probability(["99001"], [1.0]) == (None, 0.0)  # no known department
    assert department_by_summed_probability(["22001", "21001"], [0.5, 0.5])[0] == "emergency-management"  # tie


def test_evaluate_counts_top1_top3_department_and_abstentions(classifier):
    examples = [("路边有无照经营的游商在卖东西", "05001"), ("hello", "01001"), ("路灯不亮", "11008")]
    figures = evaluate.evaluate(classifier, examples)
    assert figures["texts"] == 3 and figures["reasons"].get("no_signal") == 1
    assert figures["abstain_rate"] >= round(1 / 3, 4)
    assert figures["top1"] <= figures["top3"] <= 1.0
    assert figures["per_major"]["05"]["texts"] == 1
    assert figures["confusion_by_department"]["urban-management"].get("(none)") == 1  # "hello": no suggestion
    assert figures["latency_ms"]["p95"] > 0
    assert figures["department_top1_summed"] <= round(2 / 3, 4)  # "hello" has no department


def test_not_worse_compares_top3_and_department_accuracy():
    active = {"top3": 0.8, "department_top1": 0.9}
    assert evaluate.not_worse({"top3": 0.8, "department_top1": 0.9}, active)
    assert not evaluate.not_worse({"top3": 0.85, "department_top1": 0.89}, active)
    assert not evaluate.not_worse({"top3": 0.79, "department_top1": 0.95}, active)
    assert evaluate.not_worse({"top3": 0.1, "department_top1": 0.1}, None)


def test_no_eval_text_is_in_the_training_examples():
    hand = {t for t, _ in evaluate.eval_examples()}
    trained = {t for t, _ in training.training_set().examples}
    assert not hand & trained, sorted(hand & trained)[:5]
