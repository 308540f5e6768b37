"""The content classifier: word + character n-gram TF-IDF, an NB-weighted linear SVM, and a calibration layer.

Conventions follow scikit-learn (constructor stores keyword-only parameters, `fit` returns self, learned state
ends in `_`, predicting an unfitted model raises NotFitted). scikit-learn is used only inside `fit`.

Features are integer keys, computed the same way in training and prediction (`doc_keys`), so the two cannot
drift apart:
- character n-grams (n ≤ 3) of the space-joined tokens: the code points packed into one int64
  (c0 << 42 | c1 << 21 | c2; code points are < 2**21, and a non-zero leading code point keeps n-gram lengths
  apart);
- word unigrams and bigrams: word ids from the model's word list, stored as negative keys
  (-1 - id, and -1 - ((a + 1) << 24 | b) for a bigram).
Prediction is numpy only: the keys of a document are made with vector operations, counted with `np.unique`,
found in the sorted key array with `np.searchsorted`, and multiplied with the weight rows they select — no
per-n-gram Python string or dict lookup (stack-notes.md: one-document scikit-learn `predict` spends most of
its time in input validation; our budget is p99 ≤ 2 ms per petition).

The linear model is NB-SVM (Wang & Manning 2012): for each class, features are scaled by the log-count ratio
of the class against the rest before a binary LinearSVC is fitted; the scaled weights fold back into one
(n_features, n_classes) matrix, so prediction costs the same as a plain linear model. Probabilities come from
a multinomial logistic regression on out-of-fold SVM scores.

Artifact: a folder with `model.json` (format version, parameters, labels, stop words, training data
description, metrics) and `model.npz` (words as UTF-8 bytes, sorted feature keys, idf, weights, calibration).
No pickle: loading never runs foreign code. `load()` reads format 3 and converts format 2 (string vocabulary)
artifacts; it refuses any other version.
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

FORMAT_VERSION = 3
READABLE_FORMATS = (2, 3)
MODEL_JSON = "model.json"
MODEL_NPZ = "model.npz"
WORD_PREFIX = "\x01"  # format 2 marked word features with this prefix
# Classification reads at most this many tokens (training and prediction alike): the category is decided early
# in a petition, and the cap bounds the latency of very long letters. Measured: 300 tokens cost no accuracy.
MAX_TOKENS = 300
_CP_BITS = 21  # Unicode code points are < 2**21
_WORD_BITS = 24  # at most 16.7 M distinct words
_MAX_CHAR_N = 3  # 3 x 21 bits fit in an int64
_MAX_WORD_N = 2


class NotFitted(XinfangError):
    code = "model.not_fitted"


class ModelFormatError(InvalidInput):
    code = "model.format"


def char_keys(text: str, n_min: int, n_max: int) -> np.ndarray:
    """Integer keys of the character n-grams (n_min..n_max, n ≤ 3) of `text`."""
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    n = len(cps)
    parts = []
    if n_min <= 1 <= n_max and n >= 1:
        parts.append(cps)
    if n_min <= 2 <= n_max and n >= 2:
        parts.append((cps[:-1] << _CP_BITS) | cps[1:])
    if n_min <= 3 <= n_max and n >= 3:
        parts.append((cps[:-2] << (2 * _CP_BITS)) | (cps[1:-1] << _CP_BITS) | cps[2:])
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def word_keys(ids: np.ndarray, n_max: int) -> np.ndarray:
    """Negative integer keys of word unigrams and bigrams; ids < 0 (unknown words) give no key."""
    parts = []
    if n_max >= 1:
        parts.append(-1 - ids[ids >= 0])
    if n_max >= 2 and len(ids) >= 2:
        a, b = ids[:-1], ids[1:]
        ok = (a >= 0) & (b >= 0)
        parts.append(-1 - (((a[ok] + 1) << _WORD_BITS) | b[ok]))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _string_key(feature: str, words: dict[str, int]) -> int:
    """Key of a format-2 feature string (for converting old artifacts)."""
    if feature.startswith(WORD_PREFIX):
        parts = [words.setdefault(w, len(words)) for w in feature[1:].split(" ")]
        if len(parts) == 1:
            return -1 - parts[0]
        return -1 - (((parts[0] + 1) << _WORD_BITS) | parts[1])
    return int(char_keys(feature, len(feature), len(feature))[0])


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
        C: float = 1.0,
        nb_weighting: bool = True,
        max_tokens: int = MAX_TOKENS,
        calibration_folds: int = 5,
        random_state: int = 0,
    ) -> None:
        self.word_ngram_max = word_ngram_max
        self.char_ngram_min = char_ngram_min
        self.char_ngram_max = char_ngram_max
        self.min_df = min_df
        self.C = C
        self.nb_weighting = nb_weighting
        self.max_tokens = max_tokens
        self.calibration_folds = calibration_folds
        self.random_state = random_state

    def get_params(self) -> dict[str, Any]:
        return {
            "word_ngram_max": self.word_ngram_max,
            "char_ngram_min": self.char_ngram_min,
            "char_ngram_max": self.char_ngram_max,
            "min_df": self.min_df,
            "C": self.C,
            "nb_weighting": self.nb_weighting,
            "max_tokens": self.max_tokens,
            "calibration_folds": self.calibration_folds,
            "random_state": self.random_state,
        }

    # --- features -----------------------------------------------------------------------------------------

    def doc_keys(self, tokens: Sequence[str], words: dict[str, int]) -> np.ndarray:
        """All feature keys of one document (with repeats), given a word → id table."""
        tokens = list(tokens[: self.max_tokens])
        get = words.get
        ids = np.fromiter((get(t, -1) for t in tokens), dtype=np.int64, count=len(tokens))
        return np.concatenate(
            (
                word_keys(ids, self.word_ngram_max),
                char_keys(" ".join(tokens), self.char_ngram_min, self.char_ngram_max),
            )
        )

    # --- training -----------------------------------------------------------------------------------------

    def _validate_params(self) -> None:
        if not (0 <= self.word_ngram_max <= _MAX_WORD_N and self.char_ngram_min >= 1):
            raise InvalidInput("word_ngram_max 取 0..2, char_ngram_min ≥ 1", code="training.invalid")
        if self.char_ngram_max > _MAX_CHAR_N:
            raise InvalidInput("char_ngram_max 最大为 3", code="training.invalid")

    def _tfidf(self, docs: Sequence[Sequence[str]]) -> tuple[Any, dict[str, int], np.ndarray, np.ndarray]:
        """Fit vocabulary and idf; return (l2-normalised sublinear TF-IDF matrix, words, keys, idf)."""
        from scipy import sparse

        words: dict[str, int] = {}
        for doc in docs:
            for t in doc[: self.max_tokens]:
                words.setdefault(t, len(words))
        if len(words) >= 1 << _WORD_BITS:
            raise InvalidInput("词表过大", code="training.invalid")
        per_doc = [np.unique(self.doc_keys(d, words), return_counts=True) for d in docs]
        all_keys = np.unique(np.concatenate([k for k, _ in per_doc] or [np.zeros(0, dtype=np.int64)]))
        cols = [np.searchsorted(all_keys, k) for k, _ in per_doc]
        df = np.bincount(np.concatenate(cols), minlength=len(all_keys)) if cols else np.zeros(0)
        kept = df >= self.min_df
        if not kept.any():
            raise InvalidInput("训练数据太少:没有满足 min_df 的特征", code="training.invalid")
        # Keep only the words that some kept word feature uses, renumbered; recompute their keys.
        kept_keys = all_keys[kept]
        neg = kept_keys < 0
        wk = -1 - kept_keys[neg]
        uni = wk < (1 << _WORD_BITS)
        first = np.where(uni, wk, (wk >> _WORD_BITS) - 1)
        second = wk & ((1 << _WORD_BITS) - 1)
        used = np.unique(np.concatenate((first, second[~uni])))
        remap = np.full(len(words), -1, dtype=np.int64)
        remap[used] = np.arange(len(used))
        by_id = list(words)
        new_words = {by_id[i]: j for j, i in enumerate(used.tolist())}
        new_keys = kept_keys.copy()
        new_keys[neg] = -1 - np.where(uni, remap[first], ((remap[first] + 1) << _WORD_BITS) | remap[second])
        order = np.argsort(new_keys, kind="stable")
        position = np.full(len(all_keys), -1, dtype=np.int64)
        position[np.flatnonzero(kept)[order]] = np.arange(len(order))
        n = len(docs)
        idf = (np.log((1.0 + n) / (1.0 + df[kept][order])) + 1.0).astype(np.float32)
        rows, cols_out, vals = [], [], []
        for i, ((_, counts), c) in enumerate(zip(per_doc, cols, strict=True)):
            p = position[c]
            ok = p >= 0
            p = p[ok]
            v = (1.0 + np.log(counts[ok])) * idf[p]
            norm = math.sqrt(float(v @ v))
            if norm > 0:
                v = v / norm
            rows.append(np.full(len(p), i, dtype=np.int64))
            cols_out.append(p)
            vals.append(v.astype(np.float32))
        x = sparse.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols_out))),
            shape=(n, len(order)),
            dtype=np.float32,
        )
        return x, new_words, new_keys[order], idf

    def _fit_linear(self, x: Any, y: np.ndarray, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(coef (n_classes, n_features), intercept) of the (NB-weighted) linear SVM."""
        from sklearn.svm import LinearSVC

        classes = np.unique(y)
        if not self.nb_weighting:
            svm = LinearSVC(C=self.C, random_state=self.random_state).fit(x, y, sample_weight=weights)
            coef, intercept = np.asarray(svm.coef_), np.asarray(svm.intercept_)
            if len(classes) == 2:  # one hyperplane: expand to one column per class
                coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
            return coef, intercept
        binary = x.copy()
        binary.data[:] = 1.0
        coefs, intercepts = [], []
        for label in classes:
            pos = y == label
            p = np.asarray(binary[pos].sum(axis=0)).ravel() + 1.0
            q = np.asarray(binary[~pos].sum(axis=0)).ravel() + 1.0
            ratio = np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)
            svm = LinearSVC(C=self.C, random_state=self.random_state)
            svm.fit(x.multiply(ratio).tocsr(), pos.astype(np.int64), sample_weight=weights)
            coefs.append(svm.coef_.ravel() * ratio)
            intercepts.append(float(svm.intercept_[0]))
        return np.vstack(coefs), np.asarray(intercepts)

    def fit(
        self,
        docs: Sequence[Sequence[str]],
        labels: Sequence[str],
        *,
        sample_weight: Sequence[float] | None = None,
        stopwords: Sequence[str] = (),
    ) -> CategoryModel:
        """Learn words, feature keys, idf, SVM weights and a multinomial calibration on out-of-fold scores."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold

        self._validate_params()
        if len(docs) != len(labels) or len(set(labels)) < 2:
            raise InvalidInput("训练数据至少需要两个类别,且文本与标签数量一致", code="training.invalid")
        x, words, keys, idf = self._tfidf(docs)
        y = np.asarray(labels)
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        coef, intercept = self._fit_linear(x, y, weights)
        classes = [str(c) for c in np.unique(y)]
        folds = min(self.calibration_folds, int(np.min(np.unique(y, return_counts=True)[1])))
        cv = StratifiedKFold(n_splits=max(folds, 2), shuffle=True, random_state=self.random_state)
        scores = np.zeros((len(y), len(classes)))
        for train_idx, test_idx in cv.split(np.zeros(len(y)), y):
            fold_w = None if weights is None else weights[train_idx]
            if len(np.unique(y[train_idx])) != len(classes):
                raise InvalidInput("每个类别至少需要两条训练数据", code="training.invalid")
            c, b = self._fit_linear(x[train_idx], y[train_idx], fold_w)
            scores[test_idx] = np.asarray(x[test_idx] @ c.T) + b
        calibrator = LogisticRegression(C=10.0, max_iter=1000).fit(scores, y)
        if [str(c) for c in calibrator.classes_] != classes:
            raise InvalidInput("calibration classes differ from SVM classes", code="training.invalid")
        calib_coef = np.asarray(calibrator.coef_, dtype=np.float64)
        calib_intercept = np.asarray(calibrator.intercept_, dtype=np.float64)
        if len(classes) == 2:  # binary logistic regression: one row; softmax over (-z/2, z/2) is the same
            calib_coef = np.vstack([-calib_coef / 2, calib_coef / 2])
            calib_intercept = np.concatenate([-calib_intercept / 2, calib_intercept / 2])
        self._set_state(
            classes=classes,
            words=words,
            keys=keys,
            idf=idf,
            weights=np.ascontiguousarray(coef.T, dtype=np.float32),
            intercept=np.asarray(intercept, dtype=np.float32),
            calib_coef=calib_coef,
            calib_intercept=calib_intercept,
            stopwords=sorted(set(stopwords)),
        )
        return self

    def _set_state(
        self,
        *,
        classes: list[str],
        words: dict[str, int],
        keys: np.ndarray,
        idf: np.ndarray,
        weights: np.ndarray,
        intercept: np.ndarray,
        calib_coef: np.ndarray,
        calib_intercept: np.ndarray,
        stopwords: list[str],
    ) -> None:
        """Install learned state in the layout the hot path wants: keys sorted, weights (n_features, n_classes)."""
        n_features = len(keys)
        if weights.shape != (n_features, len(classes)) or idf.shape != (n_features,):
            raise ModelFormatError("weights do not match the label set or the feature keys")
        if calib_coef.shape != (len(classes), len(classes)) or intercept.shape != (len(classes),):
            raise ModelFormatError("calibration does not match the label set")
        if n_features > 1 and not bool(np.all(keys[1:] > keys[:-1])):
            raise ModelFormatError("feature keys are not strictly increasing")
        self.classes_ = classes
        self.words_ = words
        self.keys_ = np.ascontiguousarray(keys, dtype=np.int64)
        self.idf_ = np.ascontiguousarray(idf, dtype=np.float32)
        self.weights_ = np.ascontiguousarray(weights, dtype=np.float32)
        self.intercept_ = np.asarray(intercept, dtype=np.float32)
        self.calib_coef_ = calib_coef
        self.calib_intercept_ = calib_intercept
        self.stopwords_ = frozenset(stopwords)
        self._last = max(n_features - 1, 0)

    # --- prediction ---------------------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "weights_"):
            raise NotFitted("分类模型尚未训练或加载", code="model.not_fitted")

    def _columns(self, tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(feature columns, l2-normalised sublinear TF-IDF values) of one document."""
        uniq, counts = np.unique(self.doc_keys(tokens, self.words_), return_counts=True)
        pos = np.minimum(np.searchsorted(self.keys_, uniq), self._last)
        hit = self.keys_[pos] == uniq
        cols = pos[hit]
        values = (1.0 + np.log(counts[hit])) * self.idf_[cols]
        norm = math.sqrt(float(values @ values))
        return cols, values / norm if norm > 0 else values

    def decision_scores(self, tokens: Sequence[str]) -> np.ndarray:
        """SVM scores of one token sequence: TF-IDF (sublinear tf, l2) · weights, without scikit-learn."""
        self._check_fitted()
        cols, values = self._columns(tokens)
        if not len(cols):
            return self.intercept_.astype(np.float64)
        return (values @ self.weights_[cols] + self.intercept_).astype(np.float64)

    def decision_scores_many(self, docs: Sequence[Sequence[str]]) -> np.ndarray:
        """Scores of many documents (n_docs, n_classes): one sparse matrix product for the batch."""
        from scipy import sparse

        self._check_fitted()
        columns = [self._columns(d) for d in docs]
        indptr = np.zeros(len(columns) + 1, dtype=np.int64)
        np.cumsum([len(c) for c, _ in columns], out=indptr[1:])
        if not len(columns):
            return np.zeros((0, len(self.classes_)))
        x = sparse.csr_matrix(
            (
                np.concatenate([v for _, v in columns]).astype(np.float32),
                np.concatenate([c for c, _ in columns]),
                indptr,
            ),
            shape=(len(columns), len(self.keys_)),
        )
        return np.asarray(x @ self.weights_, dtype=np.float64) + self.intercept_

    def _calibrate(self, scores: np.ndarray) -> np.ndarray:
        z = scores @ self.calib_coef_.T + self.calib_intercept_
        z = np.exp(z - z.max(axis=-1, keepdims=True))
        return z / z.sum(axis=-1, keepdims=True)

    def predict_proba_one(self, tokens: Sequence[str]) -> dict[str, float]:
        """Calibrated probabilities {label: p} for one document."""
        p = self._calibrate(self.decision_scores(tokens))
        return {label: float(v) for label, v in zip(self.classes_, p, strict=True)}

    def predict_proba_many(self, docs: Sequence[Sequence[str]]) -> list[dict[str, float]]:
        """Calibrated probabilities for many documents (the batch path)."""
        probs = self._calibrate(self.decision_scores_many(docs))
        return [{label: float(v) for label, v in zip(self.classes_, row, strict=True)} for row in probs]

    def predict(self, docs: Sequence[Sequence[str]]) -> list[str]:
        self._check_fitted()
        if not docs:
            return []
        return [self.classes_[int(i)] for i in np.argmax(self.decision_scores_many(docs), axis=1)]

    def word_features(self) -> list[tuple[tuple[str, ...], int]]:
        """Word n-gram features as (words, column): lets callers read e.g. the idf of a word or word pair."""
        self._check_fitted()
        by_id = sorted(self.words_, key=self.words_.__getitem__)
        out: list[tuple[tuple[str, ...], int]] = []
        for j in np.flatnonzero(self.keys_ < 0).tolist():
            wk = -1 - int(self.keys_[j])
            if wk < 1 << _WORD_BITS:
                out.append(((by_id[wk],), j))
            else:
                out.append(((by_id[(wk >> _WORD_BITS) - 1], by_id[wk & ((1 << _WORD_BITS) - 1)]), j))
        return out

    # --- persistence --------------------------------------------------------------------------------------

    def version(self) -> str:
        """A content hash of the learned weights: changes whenever the model changes."""
        self._check_fitted()
        return _version(FORMAT_VERSION, self.weights_, self.classes_, self.keys_)

    def save(self, folder: Path | str, *, metadata: dict[str, Any] | None = None) -> Path:
        """Write model.json + model.npz into `folder` (created if needed) and return the folder."""
        self._check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        ordered = sorted(self.words_.items(), key=lambda kv: kv[1])
        if [j for _, j in ordered] != list(range(len(ordered))):
            raise ModelFormatError("word ids are not contiguous")
        if any("\n" in w for w, _ in ordered):
            raise ModelFormatError("a word contains a newline")
        word_bytes = "\n".join(w for w, _ in ordered).encode("utf-8")
        np.savez_compressed(
            folder / MODEL_NPZ,
            words=np.frombuffer(word_bytes, dtype=np.uint8),
            keys=self.keys_,
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
        """Load a saved model (format 3, or format 2 converted); refuses other versions or mismatched files."""
        folder = Path(folder)
        try:
            meta = json.loads((folder / MODEL_JSON).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ModelFormatError(f"模型文件不存在: {folder / MODEL_JSON}") from exc
        fmt = meta.get("format_version")
        if fmt not in READABLE_FORMATS or meta.get("kind") != "xinfang.category_model":
            raise ModelFormatError(
                f"不支持的模型格式版本: {fmt!r}(本程序支持 {', '.join(map(str, READABLE_FORMATS))})",
                found=fmt,
            )
        params = dict(meta["params"])
        if fmt == 2:  # format 2 trained a plain LinearSVC and did not cap training documents
            params.setdefault("nb_weighting", False)
        model = cls(**params)
        classes = list(meta["labels"])
        with np.load(folder / MODEL_NPZ, allow_pickle=False) as arrays:
            weights = arrays["weights"]
            if fmt == 2:
                features = arrays["vocabulary"].tobytes().decode("utf-8").split("\n")
                if len(features) != weights.shape[0]:
                    raise ModelFormatError("词表与权重矩阵大小不一致")
                expected = meta.get("model_version")
                if expected is not None and expected != _version(2, weights, classes, None):
                    raise ModelFormatError("模型文件校验失败(版本哈希不一致)")
                words: dict[str, int] = {}
                keys = np.fromiter(
                    (_string_key(f, words) for f in features), dtype=np.int64, count=len(features)
                )
                order = np.argsort(keys, kind="stable")
                keys, idf, weights = keys[order], arrays["idf"][order], weights[order]
            else:
                words = {w: i for i, w in enumerate(arrays["words"].tobytes().decode("utf-8").split("\n"))}
                keys, idf = arrays["keys"], arrays["idf"]
            calib_coef, calib_intercept = arrays["calib_coef"], arrays["calib_intercept"]
            if calib_coef.shape[0] == 1 and len(classes) == 2:
                calib_coef = np.vstack([-calib_coef / 2, calib_coef / 2])
                calib_intercept = np.concatenate([-calib_intercept / 2, calib_intercept / 2])
            model._set_state(
                classes=classes,
                words=words,
                keys=keys,
                idf=idf,
                weights=weights,
                intercept=arrays["intercept"],
                calib_coef=calib_coef,
                calib_intercept=calib_intercept,
                stopwords=list(meta.get("stopwords", [])),
            )
        model.metadata_ = meta
        if fmt == FORMAT_VERSION and meta.get("model_version") not in (None, model.version()):
            raise ModelFormatError("模型文件校验失败(版本哈希不一致)")
        return model


def _version(fmt: int, weights: np.ndarray, classes: Sequence[str], keys: np.ndarray | None) -> str:
    digest = hashlib.sha256(np.ascontiguousarray(weights).tobytes())
    digest.update("\n".join(classes).encode())
    if keys is not None:
        digest.update(np.ascontiguousarray(keys).tobytes())
    return f"cat{fmt}-{digest.hexdigest()[:12]}"
