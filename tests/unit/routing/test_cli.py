import csv
import json

import typer
from typer.testing import CliRunner

from tests.unit.routing.corpus import make_corpus
from xinfang.cli import dispatch

app = typer.Typer()
app.command("route")(dispatch.route)
app.add_typer(dispatch.model_app, name="model")
runner = CliRunner()


def _write_corpus(path):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(make_corpus())


def test_route_prints_one_json_object(small_model_dir):
    result = runner.invoke(app, ["route", "工厂排放废气,异味很大,要求处理", "--model", str(small_model_dir)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["category"]["label"] == "环境保护"
    assert data["departments"]


def test_model_train_and_eval_json(tmp_path):
    data = tmp_path / "train.csv"
    _write_corpus(data)
    out = tmp_path / "model"
    trained = runner.invoke(app, ["model", "train", "--data", str(data), "--out", str(out)])
    assert trained.exit_code == 0, trained.output
    evaluated = runner.invoke(app, ["model", "eval", str(data), "--json", "--model", str(out)])
    assert evaluated.exit_code == 0, evaluated.output
    result = json.loads(evaluated.output.strip().splitlines()[-1])
    assert {"n", "accuracy", "macro_f1", "per_class", "confusion_matrix"} <= set(result)
    assert result["n"] == 90
