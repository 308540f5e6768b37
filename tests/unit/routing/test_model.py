import csv
import json

import pytest

from tests.unit.routing.corpus import make_corpus
from xinfang.routing.dataset import LabelledDoc, read_labelled
from xinfang.routing.model import CategoryModel, ModelFormatError, NotFitted
from xinfang.routing.training import evaluate, train
from xinfang.text.segment import model_tokens

PARAMS = {"min_df": 1, "calibration_folds": 3}


@pytest.fixture(scope="module")
def corpus_docs():
    return [LabelledDoc(label=label, text=text) for text, label in make_corpus()]


@pytest.fixture(scope="module")
def trained(corpus_docs):
    model, _ = train(docs=corpus_docs, params=PARAMS)
    return model


def test_predicting_with_an_unfitted_model_raises_not_fitted():
    with pytest.raises(NotFitted):
        CategoryModel().predict([["工资"]])


def test_the_constructor_only_stores_parameters():
    model = CategoryModel(C=2.0, min_df=1)
    assert model.get_params()["C"] == 2.0
    assert not hasattr(model, "weights_")


def test_it_learns_the_synthetic_topics_with_calibrated_probabilities(trained):
    probs = trained.predict_proba_one(model_tokens("工厂排放废气,异味很大"))
    assert max(probs, key=probs.get) == "环境保护"
    assert abs(sum(probs.values()) - 1.0) < 1e-6
    assert all(0.0 <= p <= 1.0 for p in probs.values())


def test_train_save_load_gives_the_same_predictions(trained, tmp_path, corpus_docs):
    trained.save(tmp_path / "m", metadata={"note": "test"})
    loaded = CategoryModel.load(tmp_path / "m")
    texts = ["学校乱收补课费", "包工头拖欠工资", "夜里噪音扰民", "毫无关系的一句话"]
    for text in texts:
        tokens = model_tokens(text)
        assert loaded.predict_proba_one(tokens) == pytest.approx(trained.predict_proba_one(tokens), abs=1e-9)
    assert loaded.version() == trained.version()
    assert loaded.get_params() == trained.get_params()


def test_load_refuses_an_unknown_format_version(trained, tmp_path):
    folder = trained.save(tmp_path / "m")
    meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    meta["format_version"] = 999
    (folder / "model.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelFormatError, match="999"):
        CategoryModel.load(folder)


def test_a_correction_changes_the_next_training(corpus_docs):
    text = "校车司机疲劳驾驶"
    before, _ = train(docs=corpus_docs, params=PARAMS)
    assert before.predict([model_tokens(text)]) == ["教育文体"]
    corrections = [(text, "环境保护"), ("校车司机疲劳驾驶很危险", "环境保护"), ("司机疲劳驾驶", "环境保护")]
    after, description = train(docs=corpus_docs, corrections=corrections, params=PARAMS)
    assert description["n_corrections"] == 3
    assert after.predict([model_tokens(text)]) == ["环境保护"]


def test_it_reads_chinese_headers_and_evaluates_a_file(trained, tmp_path):
    path = tmp_path / "labelled.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["留言主题", "留言详情", "一级分类"])
        for text, label in make_corpus(n_per_class=5, seed=99):
            writer.writerow(["标题", text, label])
    assert len(read_labelled(path)) == 15
    result = evaluate(trained, path)
    assert result["n"] == 15
    assert set(result) >= {"accuracy", "macro_f1", "per_class", "confusion_matrix"}
    assert result["macro_f1"] >= 0.8
    assert sum(map(sum, result["confusion_matrix"])) == 15


def test_it_names_the_missing_columns(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("foo,bar\n1,2\n", encoding="utf-8")
    with pytest.raises(Exception, match="标签列"):
        read_labelled(path)
