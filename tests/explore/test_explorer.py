"""The explorer page in a real browser (Chromium, network blocked): steering a concept gives what senn.intervene
gives, "set all true concepts" what the concept section's plan gives, filters count right, exported names go
back into the checkpoint, and names from the user's data stay text."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch
from hydra.utils import instantiate

import senn
from senn.checkpoints import load_checkpoint
from senn.cli.name_concepts import main as name_concepts_main
from senn.data import SyntheticDataModule
from senn.evaluation import evaluate
from senn.explore import explorer_data, write_explorer
from senn.metrics import intervention_plan
from senn.models.conceptizers import concepts_are_probabilities
from senn.models.utils import concepts_supervised
from senn.runs import train
from senn.runs.record import RunRecord
from tests.conftest import compose_train, make_model
from tests.evaluation.browser import CHROMIUM, FLAGS, needs_browser
from tests.evaluation.conftest import FAST, evaluate_cfg

pytestmark = needs_browser

DEBUG = ["debug=default", "callbacks.progress_bar.refresh_rate=0"]


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module's pages."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


def open_page(browser, path: Path):
    """The page from its file URL with every network request refused; JavaScript errors and dialogs fail."""
    page = browser.new_page(accept_downloads=True)
    problems = []
    page.on("pageerror", lambda err: problems.append(f"script error: {err}"))
    page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.route("http*://**", lambda route: route.abort())
    page.goto(path.as_uri(), wait_until="load")
    page.problems = problems
    return page


def steer(page, concept: int, value: float) -> None:
    """Move a concept's slider of the example shown to ``value``, as a drag ends there."""
    page.eval_on_selector(f"input.slider[data-concept='{concept}']",
                          "(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); }",
                          value)  # fmt: skip


def shown_logits(page) -> list[float]:
    """The logits the page shows (at full precision, in the cells' data-value)."""
    return [float(v) for v in page.eval_on_selector_all("#logits td.value", "cells => cells.map(c => c.dataset.value)")]


@pytest.fixture(scope="module")
def image_page(tmp_path_factory, browser):
    """An image SENN's page: the model, its data and the open page."""
    model, _ = make_model("conv")
    model = model.float()
    data = SyntheticDataModule(input_shape=(2, 12, 12), num_classes=3, num_samples=120, batch_size=40)
    path = write_explorer(tmp_path_factory.mktemp("explore") / "explorer.html", model, data, num_examples=30,
                          feature_vis_steps=4, title="test")  # fmt: skip
    return model, data, open_page(browser, path)


def test_a_steered_concept_gives_what_senn_intervene_gives(image_page):
    model, data, page = image_page
    content = explorer_data(model, data, num_examples=30, feature_vis_steps=0)
    for index, concept, share in [(3, 1, 0.8), (17, 0, 0.15)]:  # a point of the slider's range
        low, high = content["concepts"][concept]["min"], content["concepts"][concept]["max"]
        value = low + share * (high - low)
        page.click(f"#gallery .card[data-index='{index}']")
        steer(page, concept, value)
        x = data.take("test", [content["examples"][index]["id"]])[0]
        expected = senn.intervene(model, x, {concept: value})
        assert shown_logits(page) == pytest.approx(expected.logits[0].tolist(), abs=1e-4)
        assert int(page.get_attribute("#predicted", "data-class")) == int(expected.logits.argmax(1))
        page.click("#reset")  # back to the model's own concepts
        assert shown_logits(page) == pytest.approx(model(x).logits[0].tolist(), abs=1e-4)
    assert not page.problems


def test_filters_count_the_examples(image_page):
    model, data, page = image_page
    content = explorer_data(model, data, num_examples=30, feature_vis_steps=0)
    x, y = data.take("test", [e["id"] for e in content["examples"]])
    predicted = model(x).logits.argmax(1)
    expected = {"all": len(y), "wrong": int((predicted != y).sum()), "true:1": int((y == 1).sum()),
                "pred:2": int((predicted == 2).sum())}  # fmt: skip
    for option, count in expected.items():
        page.select_option("#filter", option)
        assert page.inner_text("#count").startswith(f"{count} of 30")
        assert page.eval_on_selector_all("#gallery .card", "cards => cards.length") == count


@pytest.fixture(scope="module")
def shapes_checkpoint(tmp_path_factory) -> Path:
    """A supervised shapes SENN trained for seconds: its best checkpoint."""
    out = tmp_path_factory.mktemp("shapes")
    train(compose_train(["experiment=shapes_supervised", *DEBUG, "data.num_train=400", "data.num_test=60",
                         "trainer.limit_train_batches=4", f"output_dir={out}"]))  # fmt: skip
    return Path(RunRecord.load(out).best_checkpoint)


def test_set_all_true_concepts_sets_them_as_the_concept_section_does(shapes_checkpoint, browser, tmp_path):
    """Per example, the class after "set all true concepts" is senn.intervene's with the concept section's plan
    (supervised sigmoid concepts: the annotations themselves)."""
    module = load_checkpoint(shapes_checkpoint)
    data = instantiate(module.data_config)
    page = open_page(browser, write_explorer(tmp_path / "shapes.html", module, data, num_examples=12))
    content = explorer_data(module, data, num_examples=12, feature_vis_steps=0)
    ids = [e["id"] for e in content["examples"]]
    x, true = data.take("test", ids)[0], data.concepts["test"][ids]
    # the concept section's plan for supervised sigmoid concepts: concept j is true concept j, set to its annotation
    assert concepts_supervised(module) and concepts_are_probabilities(module.model.conceptizer)
    columns, values = intervention_plan(module, torch.zeros(1, 6), torch.zeros(1, 5), [0] * 5)
    assert content["truth"]["columns"] == columns.tolist() and content["truth"]["values"] == values.tolist()
    for i in (0, 5, 11):
        page.click(f"#gallery .card[data-index='{i}']")
        page.click("#set-true")
        setting = {int(columns[j]): float(values[j, int(true[i, j])]) for j in range(5)}
        expected = senn.intervene(module, x[i], setting)
        assert shown_logits(page) == pytest.approx(expected.logits[0].tolist(), abs=1e-4)
        assert int(page.get_attribute("#predicted", "data-class")) == int(expected.logits.argmax(1))
    assert not page.problems


def test_renamed_concepts_export_a_file_senn_name_concepts_stores(shapes_checkpoint, browser, tmp_path):
    module = load_checkpoint(shapes_checkpoint)
    page = open_page(browser, write_explorer(tmp_path / "names.html", module, instantiate(module.data_config),
                                             num_examples=8, feature_vis_steps=0))  # fmt: skip
    page.click("#tab-concepts")
    names = ["scale", "rotation", "left", "top", "color", "bias"]
    for k, name in enumerate(names):
        page.fill(f"input.concept-name[data-concept='{k}']", name)
    with page.expect_download() as download:
        page.click("#export")
    exported = tmp_path / "concept_names.json"
    download.value.save_as(exported)
    name_concepts_main([str(shapes_checkpoint), "--from", str(exported), "--output", str(tmp_path / "named.ckpt")])
    assert load_checkpoint(tmp_path / "named.ckpt").model.concept_names == names


MARKUP_COLUMN, MARKUP_CLASS = "<script>alert(1)</script>", "<img src=x onerror=alert(1)>"


def test_names_from_the_data_show_as_text_in_the_explorer_and_the_report(browser, tmp_path):
    """A column and a class named like markup: both pages show the names, and nothing runs."""
    generator = torch.Generator().manual_seed(0)
    frame = pd.DataFrame({MARKUP_COLUMN: torch.randn(160, generator=generator).tolist(),
                          "b": torch.randn(160, generator=generator).tolist()})  # fmt: skip
    frame["label"] = [MARKUP_CLASS if v > 0 else "plain" for v in frame[MARKUP_COLUMN]]
    frame.to_csv(tmp_path / "t.csv", index=False)
    out = tmp_path / "run"
    train(compose_train(["experiment=tabular", f"data.path={tmp_path / 't.csv'}", "data.target=label", *DEBUG,
                         f"output_dir={out}"]))  # fmt: skip
    checkpoint = RunRecord.load(out).best_checkpoint
    module = load_checkpoint(checkpoint)
    explorer = open_page(browser, write_explorer(tmp_path / "x.html", module, instantiate(module.data_config)))
    explorer.click("#gallery .card[data-index='0']")
    assert MARKUP_COLUMN in explorer.inner_text("#detail") and MARKUP_CLASS in explorer.inner_text("#filter")
    # the report names a class where it explains an example predicted as it: ten of them, about half each
    evaluate(evaluate_cfg([f"ckpt_path={checkpoint}", f"output_dir={tmp_path / 'eval'}", *FAST, "examples_to_plot=10"]))
    report = open_page(browser, tmp_path / "eval" / "report.html")
    assert MARKUP_COLUMN in report.inner_text("body") and MARKUP_CLASS in report.inner_text("body")
    assert not explorer.problems and not report.problems


@pytest.mark.parametrize("count", [0, -3])
def test_a_page_without_examples_is_refused(count):
    """-3 used to slice the split from its end: all but three examples, silently."""
    model, _ = make_model("mlp")
    data = SyntheticDataModule(input_shape=(6,), num_classes=3, num_samples=40)
    with pytest.raises(ValueError, match=f"the page needs at least one example \\(num_examples={count}\\)"):
        explorer_data(model, data, num_examples=count)
