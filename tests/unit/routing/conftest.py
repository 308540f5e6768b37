import pytest

from tests.unit.routing.corpus import make_corpus
from xinfang.routing.dataset import LabelledDoc
from xinfang.routing.pipeline import DispatchPipeline, default_paths
from xinfang.routing.training import train


@pytest.fixture(scope="session")
def small_model_dir(tmp_path_factory):
    docs = [LabelledDoc(label=label, text=text) for text, label in make_corpus()]
    model, _ = train(docs=docs, params={"min_df": 1, "calibration_folds": 3})
    return model.save(tmp_path_factory.mktemp("model") / "category")


@pytest.fixture(scope="session")
def pipeline(small_model_dir):
    paths = default_paths()
    return DispatchPipeline.from_paths(
        model_dir=small_model_dir,
        rules=paths["rules"],
        departments=paths["departments"],
        county=paths["county"],
        national=paths["national"],
    )
