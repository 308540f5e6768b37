"""The content classifier: word + character n-gram TF-IDF, a linear SVM, and a calibration layer.

Conventions follow scikit-learn (constructor stores keyword-only parameters, `fit` returns self, learned
state ends
in `_`, predicting an unfitted model raises NotFitted). scikit-learn is used only inside `fit`; prediction
is a
hand-written sparse dot product over prepared arrays because one-document `predict` spends most of its time in
input validation (stack-notes.md), and our budget is ~1 ms per petition.

Artifact: a folder with `model.json` (format version, parameters, labels, training data description,
metrics) and
`model.npz` (vocabulary as UTF-8 bytes, idf, weights, calibration). No pickle: loading never runs foreign
code, and
`load()` refuses a format version it does not know.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from xinfang.errors import InvalidInput, XinfangError

FORMAT_VERSION = 2
MODEL_JSON = "model.json"
MODEL_NPZ = "model.npz"
WORD_PREFIX = "\x01"
# Classification reads at most this many tokens: the category is decided early in a petition, and the cap
# bounds
# the latency of very long letters (p99 ≤ 2 ms).
MAX_TOKENS = 300


class NotFitted(XinfangError):
    code = "model.not_fitted"


class ModelFormatError(InvalidInput):
    code = "model.format"


def features(
    tokens: Sequence[str], word_ngram_max: int, char_ngram_min: int, char_ngram_max: int
) -> list[str]:
    """Feature strings of one document: word n-grams (prefixed with \x01) and character n-grams of the
    space-joined tokens (no prefix, to save an allocation per gram on the hot path). Training and
    prediction both
    call this, so they cannot drift apart."""
    out = [WORD_PREFIX + t for t in tokens]
    for n in range(2, word_ngram_max + 1):
        out.extend(WORD_PREFIX + " ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    joined = " ".join(tokens)
    for n in range(char_ngram_min, char_ngram_max + 1):
        out.extend(joined[i : i + n] for i in range(len(joined) - n + 1))
    return out


class CategoryModel:
    """Top-level petition category with calibrated probabilities; documents are token sequences."""

    metadata_: dict[str, Any]  # set by load(): the artifact's model.json

    def __init__(
        self,
        *,
        word_ngram_max: int = 2,
        char_ngram_min: int = 1,
        char_ngram_max: int = 3,
        min_df: int = 2,
        C: float = 2.0,
        calibration_folds: int = 5,
        random_state: int = 0,
    ) -> None:
        self.word_ngram_max = word_ngram_max
        self.char_ngram_min = char_ngram_min
        self.char_ngram_max = char_ngram_max
        self.min_df = min_df
        self.C = C
        self.calibration_folds = calibration_folds
        self.random_state = random_state

    def get_params(self) -> dict[str, Any]:
        return {
            "word_ngram_max": self.word_ngram_max,
            "char_ngram_min": self.char_ngram_min,
            "char_ngram_max": self.char_ngram_max,
            "min_df": self.min_df,
            "C": self.C,
            "calibration_folds": self.calibration_folds,
            "random_state": self.random_state,
        }

    # --- training -----------------------------------------------------------------------------------------
    # -------

    def _analyzer(self, tokens: Sequence[str]) -> list[str]:
        return features(tokens, self.word_ngram_max, self.char_ngram_min, self.char_ngram_max)

    def fit(
        self,
        docs: Sequence[Sequence[str]],
        labels: Sequence[str],
        *,
        sample_weight: Sequence[float] | None = None,
        stopwords: Sequence[str] = (),
    ) -> CategoryModel:
        """Learn vocabulary, idf, SVM weights and a multinomial calibration on out-of-fold SVM scores."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold, cross_val_predict
        from sklearn.svm import LinearSVC

        if len(docs) != len(labels) or len(set(labels)) < 2:
            raise InvalidInput("训练数据至少需要两个类别,且文本与标签数量一致", code="training.invalid")
        vectorizer = TfidfVectorizer(
            analyzer=self._analyzer, sublinear_tf=True, min_df=self.min_df, dtype=np.float32
        )
        x = vectorizer.fit_transform(list(docs))
        y = np.asarray(labels)
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        svm = LinearSVC(C=self.C, random_state=self.random_state)
        svm.fit(x, y, sample_weight=weights)
        folds = min(self.calibration_folds, int(np.min(np.unique(y, return_counts=True)[1])))
        cv = StratifiedKFold(n_splits=max(folds, 2), shuffle=True, random_state=self.random_state)
        scores = cross_val_predict(
            LinearSVC(C=self.C, random_state=self.random_state),
            x,
            y,
            cv=cv,
            method="decision_function",
            params={"sample_weight": weights} if weights is not None else None,
        )
        calibrator = LogisticRegression(C=10.0, max_iter=1000).fit(scores, y)
        if list(calibrator.classes_) != list(svm.classes_):
            raise InvalidInput("calibration classes differ from SVM classes", code="training.invalid")
        vocabulary: dict[str, int] = {str(k): int(v) for k, v in vectorizer.vocabulary_.items()}
        self._set_state(
            classes=[str(c) for c in svm.classes_],
            vocabulary=vocabulary,
            idf=np.asarray(vectorizer.idf_, dtype=np.float32),
            coef=np.asarray(svm.coef_, dtype=np.float32),
            intercept=np.asarray(svm.intercept_, dtype=np.float32),
            calib_coef=np.asarray(calibrator.coef_, dtype=np.float64),
            calib_intercept=np.asarray(calibrator.intercept_, dtype=np.float64),
            stopwords=sorted(set(stopwords)),
        )
        return self

    def _set_state(
        self,
        *,
        classes: list[str],
        vocabulary: dict[str, int],
        idf: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
        calib_coef: np.ndarray,
        calib_intercept: np.ndarray,
        stopwords: list[str],
    ) -> None:
        """Install learned state in the layout the hot path wants: weights as (n_features, n_classes) rows."""
        if coef.ndim != 2 or coef.shape[0] != len(classes):
            if len(classes) == 2 and coef.shape[0] == 1:  # binary SVM: one hyperplane; expand to two columns
                coef = np.vstack([-coef, coef])
                intercept = np.concatenate([-intercept, intercept])
                calib_coef = np.hstack([calib_coef, calib_coef]) if calib_coef.shape[1] == 1 else calib_coef
            else:
                raise ModelFormatError("weights do not match the label set")
        self.classes_ = classes
        self.vocabulary_ = vocabulary
        self.idf_ = idf
        self.weights_ = np.ascontiguousarray(coef.T)
        self.intercept_ = intercept
        self.calib_coef_ = calib_coef
        self.calib_intercept_ = calib_intercept
        self.stopwords_ = frozenset(stopwords)

    # --- prediction ---------------------------------------------------------------------------------------
    # ------

    def _check_fitted(self) -> None:
        if not hasattr(self, "weights_"):
            raise NotFitted("分类模型尚未训练或加载", code="model.not_fitted")

    def decision_scores(self, tokens: Sequence[str]) -> np.ndarray:
        """SVM scores of one token sequence: TF-IDF (sublinear tf, l2) · weights, without scikit-learn."""
        self._check_fitted()
        get = self.vocabulary_.get
        found = [j for j in map(get, self._analyzer(tokens[:MAX_TOKENS])) if j is not None]
        if not found:
            return self.intercept_.astype(np.float64)
        cols, counts = np.unique(np.fromiter(found, dtype=np.int64, count=len(found)), return_counts=True)
        values = (1.0 + np.log(counts)) * self.idf_[cols]
        values /= math.sqrt(float(values @ values))
        return values @ self.weights_[cols] + self.intercept_

    def predict_proba_one(self, tokens: Sequence[str]) -> dict[str, float]:
        """Calibrated probabilities {label: p} for one document."""
        z = self.calib_coef_ @ self.decision_scores(tokens) + self.calib_intercept_
        if len(self.classes_) == 2 and z.shape[0] == 1:
            p1 = 1.0 / (1.0 + math.exp(-float(z[0])))
            return {self.classes_[0]: 1.0 - p1, self.classes_[1]: p1}
        z = np.exp(z - z.max())
        z /= z.sum()
        return {label: float(p) for label, p in zip(self.classes_, z, strict=True)}

    def predict(self, docs: Sequence[Sequence[str]]) -> list[str]:
        self._check_fitted()
        return [self.classes_[int(np.argmax(self.decision_scores(d)))] for d in docs]

    # --- persistence --------------------------------------------------------------------------------------
    # ------

    def version(self) -> str:
        """A content hash of the learned weights: changes whenever the model changes."""
        self._check_fitted()
        digest = hashlib.sha256(self.weights_.tobytes())
        digest.update("\n".join(self.classes_).encode())
        return f"cat{FORMAT_VERSION}-{digest.hexdigest()[:12]}"

    def save(self, folder: Path | str, *, metadata: dict[str, Any] | None = None) -> Path:
        """Write model.json + model.npz into `folder` (created if needed) and return the folder."""
        self._check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        ordered = sorted(self.vocabulary_.items(), key=lambda kv: kv[1])
        if [j for _, j in ordered] != list(range(len(ordered))):
            raise ModelFormatError("vocabulary indices are not contiguous")
        vocab_bytes = "\n".join(f for f, _ in ordered).encode("utf-8")
        np.savez_compressed(
            folder / MODEL_NPZ,
            vocabulary=np.frombuffer(vocab_bytes, dtype=np.uint8),
            idf=self.idf_,
            weights=self.weights_,
            intercept=self.intercept_,
            calib_coef=self.calib_coef_,
            calib_intercept=self.calib_intercept_,
        )
        meta = {
            "format_version": FORMAT_VERSION,
            "kind": "xinfang.category_model",
            "model_version": self.version(),
            "params": self.get_params(),
            "labels": self.classes_,
            "stopwords": sorted(self.stopwords_),
            **(metadata or {}),
        }
        (folder / MODEL_JSON).write_text(
            json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        return folder

    @classmethod
    def load(cls, folder: Path | str) -> CategoryModel:
        """Load a saved model; refuses an unknown format version or a mismatched weight file."""
        folder = Path(folder)
        try:
            meta = json.loads((folder / MODEL_JSON).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ModelFormatError(f"模型文件不存在: {folder / MODEL_JSON}") from exc
        if meta.get("format_version") != FORMAT_VERSION or meta.get("kind") != "xinfang.category_model":
            raise ModelFormatError(
                f"不支持的模型格式版本: {meta.get('format_version')!r}(本程序支持 {FORMAT_VERSION})",
                found=meta.get("format_version"),
            )
        model = cls(**meta["params"])
        with np.load(folder / MODEL_NPZ, allow_pickle=False) as arrays:
            words = arrays["vocabulary"].tobytes().decode("utf-8").split("\n")
            weights = arrays["weights"]
            model._set_state(
                classes=list(meta["labels"]),
                vocabulary={w: i for i, w in enumerate(words)},
                idf=arrays["idf"],
                coef=np.ascontiguousarray(weights.T),
                intercept=arrays["intercept"],
                calib_coef=arrays["calib_coef"],
                calib_intercept=arrays["calib_intercept"],
                stopwords=list(meta.get("stopwords", [])),
            )
        if len(words) != model.weights_.shape[0]:
            raise ModelFormatError("词表与权重矩阵大小不一致")
        model.metadata_ = meta
        if meta.get("model_version") not in (None, model.version()):
            raise ModelFormatError("模型文件校验失败(版本哈希不一致)")
        return model
