"""Training and evaluation of the category model from files and human corrections.

`train` accepts any mix of pre-tokenised and raw-text files plus (text, label) corrections from the database;
corrections get a higher sample weight so that the next model follows the clerks. `evaluate` reports the
figures
the UI and the model card show.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from xinfang.routing.dataset import LabelledDoc, dedupe, read_labelled
from xinfang.routing.model import CategoryModel
from xinfang.text.normalize import normalise_text, to_half_width_simplified
from xinfang.text.segment import BASE_STOPWORDS, cut, filter_tokens, model_tokens

CORRECTION_WEIGHT = 5.0


def derive_stopwords(raw_docs: Sequence[LabelledDoc], token_docs: Sequence[LabelledDoc]) -> set[str]:
    """Stop words implied by the data: every token of the raw texts (and of BASE_STOPWORDS) that never occurs
    in the tokenised corpus.

    Why: the tokenised training file was built with an unpublished stop list; raw text must lose the same
    words before it reaches the model, or bigrams across them would never match. The raw labelled rows are
    (almost all) tokenised rows as well, so a raw token absent from the whole tokenised corpus is one that the
    stop list removed (measured on the 440 aligned pairs: the file drops exactly the tokens it never contains,
    664 of them, among them words such as 保险 "to be safe"). Only tokens seen in raw rows can be learnt, so the
    list grows with the raw data; BASE_STOPWORDS covers the common function words.
    """
    known = {t for d in token_docs for t in training_tokens(d.tokens or ())}
    if not token_docs:
        return set(BASE_STOPWORDS)
    candidates = set(BASE_STOPWORDS)
    for doc in raw_docs:
        candidates.update(filter_tokens(cut(doc.text or ""), frozenset()))
    return {t for t in candidates if t not in known and not _is_datum(t)}


def _is_datum(token: str) -> bool:
    """A token such as 2016.7.21, GB50500-2013 or a masked phone number: never a feature, and a stop list is made
    of words, not of figures copied out of individual messages (single digits stay: the corpus drops them)."""
    return len(token) > 1 and any(c.isascii() and c.isalnum() for c in token)


def training_tokens(tokens: Iterable[str]) -> list[str]:
    """Pre-tokenised training tokens in the run-time form: half-width simplified (the file keeps some
    traditional characters, run-time text is simplified), without Excel's "_x000D_" carriage-return
    artefacts, punctuation and lone Latin letters."""
    out = []
    for token in tokens:
        token = to_half_width_simplified(token)
        if "x000D" not in token:
            out.append(token)
    return filter_tokens(out, frozenset())


def doc_tokens(doc: LabelledDoc, stopwords: frozenset[str]) -> list[str]:
    """Model tokens of a document; raw text takes exactly the run-time path (normalise, first
    CLASSIFY_MAX_CHARS characters, cut, filter), pre-tokenised rows their run-time form."""
    if doc.tokens is not None:
        return training_tokens(doc.tokens)
    return model_tokens(normalise_text(doc.text or ""), stopwords)


def describe(docs: Sequence[LabelledDoc], files: Sequence[Path], n_corrections: int) -> dict[str, Any]:
    return {
        "files": [p.name for p in files],
        "n_documents": len(docs),
        "n_corrections": n_corrections,
        "label_counts": dict(sorted(Counter(d.label for d in docs).items())),
    }


def train(
    data_files: Sequence[Path | str] = (),
    *,
    corrections: Iterable[tuple[str, str]] = (),
    docs: Sequence[LabelledDoc] = (),
    params: dict[str, Any] | None = None,
) -> tuple[CategoryModel, dict[str, Any]]:
    """Fit a model on files + in-memory docs + corrections (deduplicated by text); return it and a description."""
    files = [Path(p) for p in data_files]
    loaded = dedupe([*docs, *(d for f in files for d in read_labelled(f))])
    fixes = [LabelledDoc(label=label, text=text) for text, label in corrections if text and label]
    fixed_keys = {d.key() for d in fixes}
    base = [
        d for d in loaded if d.key() not in fixed_keys
    ]  # a correction overrides the same text's old label
    stopwords = frozenset(
        derive_stopwords([d for d in base if d.text is not None], [d for d in base if d.tokens is not None])
    )
    all_docs = [*base, *fixes]
    weights = [1.0] * len(base) + [CORRECTION_WEIGHT] * len(fixes)
    model = CategoryModel(**(params or {}))
    model.fit(
        [doc_tokens(d, stopwords) for d in all_docs],
        [d.label for d in all_docs],
        sample_weight=weights,
        stopwords=sorted(stopwords),
    )
    return model, describe(all_docs, files, len(fixes))


def metrics(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """n, accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix (rows = truth)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    present = [lab for lab in labels if lab in set(y_true) | set(y_pred)]
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=present, zero_division=0)
    return {
        "n": len(y_true),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "macro_f1": round(
            float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)), 4
        ),
        "per_class": {
            lab: {
                "precision": round(float(p[i]), 4),
                "recall": round(float(r[i]), 4),
                "f1": round(float(f[i]), 4),
                "support": int(s[i]),
            }
            for i, lab in enumerate(present)
        },
        "labels": present,
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=present).tolist(),
    }


def evaluate_docs(model: CategoryModel, docs: Sequence[LabelledDoc]) -> dict[str, Any]:
    stopwords = model.stopwords_ or BASE_STOPWORDS
    preds = model.predict([doc_tokens(d, stopwords) for d in docs])
    return metrics([d.label for d in docs], preds, model.classes_)


def evaluate(model: CategoryModel, data_file: Path | str) -> dict[str, Any]:
    """Evaluate on one labelled CSV/XLSX file (deduplicated)."""
    return evaluate_docs(model, dedupe(read_labelled(data_file)))


def _jaccard_best(tokens: set[str], pool: Sequence[set[str]]) -> float:
    return max((len(tokens & t) / len(tokens | t) for t in pool if t), default=0.0)


def holdout_split(
    tokenised: Sequence[LabelledDoc],
    raw: Sequence[LabelledDoc],
    *,
    test_size: float = 0.2,
    seed: int = 20200101,
) -> dict[str, list[LabelledDoc]]:
    """The held-out protocol used for the reported figures.

    1. The tokenised file, deduplicated by token string, is split stratified by label (test_size, seed).
    2. Each raw row is matched to its tokenised twin by token-set Jaccard; rows whose best match lies in the
       training part (Jaccard > 0.3) may train, all others form the raw-text test set. So no message is on
       both
       sides, and the raw test measures the real run-time path (rjieba on raw text).
    """
    from sklearn.model_selection import train_test_split

    tok = dedupe(tokenised)
    train_tok, test_tok = train_test_split(
        tok, test_size=test_size, random_state=seed, stratify=[d.label for d in tok]
    )
    train_sets = [set(d.tokens or ()) for d in train_tok]
    test_sets = [set(d.tokens or ()) for d in test_tok]
    raw_train: list[LabelledDoc] = []
    raw_test: list[LabelledDoc] = []
    for doc in dedupe(raw):
        tokens = set(filter_tokens(cut(doc.text or ""), frozenset()))
        best_train, best_test = _jaccard_best(tokens, train_sets), _jaccard_best(tokens, test_sets)
        (raw_train if best_train > 0.3 and best_train >= best_test else raw_test).append(doc)
    return {"train": [*train_tok, *raw_train], "test_tokenised": list(test_tok), "test_raw": raw_test}
