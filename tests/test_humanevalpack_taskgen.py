"""The committed task YAMLs come from the generator, and every one of them loads in lm-eval."""

from pathlib import Path

import yaml

from lm_eval_octopack import tasks_dir
from lm_eval_octopack.taskgen import (
    humanevalpack_files,
    humanevalpack_groups,
    resolve_tasks,
    stale_files,
    task_languages,
)

LANGS = ("python", "js", "java", "go", "cpp", "rust")


def test_committed_yaml_is_what_the_generator_writes():
    stale = stale_files(Path(tasks_dir()))
    assert not stale, f"run `python -m lm_eval_octopack.taskgen --write`; stale: {stale}"


def test_every_reference_task_name_exists_for_every_language():
    names = {Path(rel).stem for rel in humanevalpack_files()}
    for prefix in ("humanevalfixtests", "humanevalfixdocs", "humanevalexplaindescribe", "humanevalexplainsynthesize",
                   "humanevalsynthesize", "humanevalfix"):
        assert {f"{prefix}-{lang}" for lang in LANGS} <= names
    assert {"humanevalpack", "humanevalfix", "humanevalexplain", "humanevalsynthesize"} <= set(humanevalpack_groups())
    assert {f"humanevalpack-{lang}" for lang in LANGS} <= set(humanevalpack_groups())


def test_paper_generation_defaults():
    text = humanevalpack_files()["humanevalpack/humanevalfixtests/humanevalfixtests-go.yaml"]
    config = yaml.safe_load(text.replace("!function ", ""))
    assert config["repeats"] == 20
    kwargs = config["generation_kwargs"]
    assert kwargs["do_sample"] is True and kwargs["temperature"] == 0.2 and kwargs["top_p"] == 0.95
    assert kwargs["until"] == ["\n//", "\nfunc main(", "struct", "\nfunc", "<|endoftext|>"]
    synth = yaml.safe_load(humanevalpack_files()[
        "humanevalpack/humanevalexplainsynthesize/humanevalexplainsynthesize-rust.yaml"].replace("!function ", ""))
    assert synth["repeats"] == 1
    assert [m["metric"] for m in synth["metric_list"]] == ["pass@1", "verdicts"]


def test_name_resolution_follows_groups_and_globs():
    assert resolve_tasks(["humanevalfix"]) == {f"humanevalfixtests-{lang}" for lang in LANGS}
    assert resolve_tasks(["humanevalfix-py*"]) == {"humanevalfix-python"}
    languages = task_languages()
    assert languages["humanevalpack"] == set(LANGS)
    assert languages["humanevalexplaindescribe-go"] == set()


def test_all_humanevalpack_tasks_build_on_the_real_data(task_manager, humanevalpack_dir, monkeypatch):
    monkeypatch.setenv("OCTOPACK_DATA_DIR", str(humanevalpack_dir))
    names = [f"{prefix}-{lang}" for prefix in ("humanevalfixtests", "humanevalfixdocs", "humanevalexplaindescribe",
                                               "humanevalsynthesize", "humanevalfix") for lang in LANGS]
    loaded = task_manager.load(names)["tasks"]
    assert sorted(loaded) == sorted(names)
    for name, task in loaded.items():
        docs = list(task.test_docs())
        assert len(docs) == 164, name
        assert task.doc_to_text(docs[0]) == docs[0]["prompt_text"]
        assert task.doc_to_target(docs[0]) == "\n" + docs[0]["test"]
