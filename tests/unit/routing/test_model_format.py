"""Format-3 features (integer keys), the batch path, format-2 compatibility and the train/serve token path."""

import json

import numpy as np
import pytest

from tests.unit.routing.corpus import make_corpus
from xinfang.routing.dataset import LabelledDoc
from xinfang.routing.model import WORD_PREFIX, CategoryModel, ModelFormatError, char_keys
from xinfang.routing.training import derive_stopwords, doc_tokens, train, training_tokens
from xinfang.text.segment import model_tokens

PARAMS = {"min_df": 1, "calibration_folds": 3}
TEXTS = ["学校乱收补课费", "包工头拖欠工资三个月", "夜里工厂噪音扰民", "毫无关系的一句话", ""]


@pytest.fixture(scope="module")
def trained():
    docs = [LabelledDoc(label=label, text=text) for text, label in make_corpus()]
    return train(docs=docs, params=PARAMS)[0]


def test_char_keys_distinguish_ngram_lengths_and_match_the_code_points():
    keys = char_keys("工资ab", 1, 3)
    assert len(keys) == 4 + 3 + 2 and len(set(keys.tolist())) == 9
    assert keys[0] == ord("工")
    assert keys[4] == (ord("工") << 21) | ord("资")


def test_the_batch_path_gives_the_same_probabilities_as_one_at_a_time(trained):
    docs = [model_tokens(t) for t in TEXTS]
    many = trained.predict_proba_many(docs)
    for doc, probs in zip(docs, many, strict=True):
        assert probs == pytest.approx(trained.predict_proba_one(doc), abs=1e-6)
    assert trained.predict(docs) == [max(p, key=p.get) for p in many]


def test_prediction_equals_the_training_tfidf_times_the_weights(trained):
    """The hand-written vector matches an independent sublinear-tf / idf / l2 computation."""
    tokens = model_tokens("包工头拖欠工资三个月,工资一直不发")
    keys, counts = np.unique(trained.doc_keys(tokens, trained.words_), return_counts=True)
    known = {int(k): j for j, k in enumerate(trained.keys_.tolist())}
    vec = np.zeros(len(trained.keys_))
    for k, c in zip(keys.tolist(), counts.tolist(), strict=True):
        if k in known:
            vec[known[k]] = (1 + np.log(c)) * trained.idf_[known[k]]
    vec /= np.linalg.norm(vec)
    expected = vec @ trained.weights_ + trained.intercept_
    assert trained.decision_scores(tokens) == pytest.approx(expected, abs=1e-5)


def _write_format_2(model: CategoryModel, folder):
    """An artifact as format 2 wrote it: feature strings (words prefixed with \\x01) in arbitrary order."""
    by_id = sorted(model.words_, key=model.words_.__getitem__)
    strings = [""] * len(model.keys_)
    for words, j in model.word_features():
        strings[j] = WORD_PREFIX + " ".join(words)
    for j, key in enumerate(model.keys_.tolist()):
        if key >= 0:
            cps = [(key >> s) & ((1 << 21) - 1) for s in (42, 21, 0)]
            strings[j] = "".join(chr(c) for c in cps if c)
    assert all(strings) and by_id
    order = np.random.default_rng(0).permutation(len(strings))
    weights = model.weights_[order]
    folder.mkdir()
    np.savez_compressed(
        folder / "model.npz",
        vocabulary=np.frombuffer("\n".join(strings[i] for i in order).encode(), dtype=np.uint8),
        idf=model.idf_[order],
        weights=weights,
        intercept=model.intercept_,
        calib_coef=model.calib_coef_,
        calib_intercept=model.calib_intercept_,
    )
    import hashlib

    digest = hashlib.sha256(weights.tobytes())
    digest.update("\n".join(model.classes_).encode())
    params = {k: v for k, v in model.get_params().items() if k not in ("nb_weighting", "max_tokens")}
    meta = {
        "format_version": 2,
        "kind": "xinfang.category_model",
        "model_version": f"cat2-{digest.hexdigest()[:12]}",
        "params": params,
        "labels": model.classes_,
        "stopwords": sorted(model.stopwords_),
    }
    (folder / "model.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return folder


def test_a_format_2_artifact_loads_and_predicts_the_same(trained, tmp_path):
    loaded = CategoryModel.load(_write_format_2(trained, tmp_path / "v2"))
    for text in TEXTS:
        tokens = model_tokens(text)
        assert loaded.predict_proba_one(tokens) == pytest.approx(trained.predict_proba_one(tokens), abs=1e-6)


def test_a_format_2_artifact_with_a_wrong_hash_is_refused(trained, tmp_path):
    folder = _write_format_2(trained, tmp_path / "v2")
    meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    meta["model_version"] = "cat2-000000000000"
    (folder / "model.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelFormatError):
        CategoryModel.load(folder)


def test_plain_svm_and_binary_problems_train_and_round_trip(tmp_path):
    docs = [LabelledDoc(label=label, text=text) for text, label in make_corpus()]
    two = [d for d in docs if d.label in ("环境保护", "教育文体")]
    for params in ({**PARAMS, "nb_weighting": False}, PARAMS):
        model = train(docs=two, params=params)[0]
        probs = model.predict_proba_one(model_tokens("工厂排放废气"))
        assert max(probs, key=probs.get) == "环境保护" and sum(probs.values()) == pytest.approx(1.0)
        loaded = CategoryModel.load(model.save(tmp_path / str(params.get("nb_weighting", True))))
        assert loaded.predict_proba_one(model_tokens("学校补课")) == pytest.approx(
            model.predict_proba_one(model_tokens("学校补课")), abs=1e-6
        )


def test_tokenised_training_rows_take_the_run_time_form():
    assert training_tokens(["負責人", "_x000D_", "．", "A", "工资"]) == ["负责人", "工资"]


def test_stop_words_are_the_raw_tokens_the_tokenised_corpus_never_contains():
    tokenised = [LabelledDoc(label="x", tokens=("拖欠", "工资", "已经"))]
    raw = [LabelledDoc(label="x", text="我们的工资已经被拖欠了")]
    stop = derive_stopwords(raw, tokenised)
    assert {"我们", "的", "被", "了"} <= stop
    assert not {"拖欠", "工资", "已经"} & stop
    assert doc_tokens(raw[0], frozenset(stop)) == ["工资", "已经", "拖欠"]
