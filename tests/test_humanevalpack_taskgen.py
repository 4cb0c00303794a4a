"""The task catalogue and its one YAML generator: the committed task_yaml/ is what the generator writes, every
HumanEvalPack YAML loads in lm-eval, and the language table is the only place that lists the languages."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import yaml

from lm_eval_octopack import tasks_dir
from lm_eval_octopack.catalogue import groups, humanevalpack_groups, resolve_tasks, task_languages, tasks
from lm_eval_octopack.language_facts import FACTS, LANGUAGES
from lm_eval_octopack.plugin import our_task_names
from lm_eval_octopack.taskgen import HEADER, render, stale_files

REPO = Path(__file__).resolve().parents[1]
LANGS = LANGUAGES


def test_committed_yaml_is_what_the_generator_writes():
    stale = stale_files(Path(tasks_dir()))
    assert not stale, f"run `python -m lm_eval_octopack.taskgen --write` (make yaml); stale: {stale[:10]}"


def test_one_header_and_one_file_per_task_and_group():
    files = render()
    assert all(text.startswith(HEADER) for text in files.values())
    assert len(files) == len(tasks()) + len(groups())
    on_disk = {p.relative_to(tasks_dir()).as_posix() for p in Path(tasks_dir()).rglob("*.yaml")}
    assert on_disk == set(files)


def test_our_task_names_are_the_names_the_yamls_define():
    defined: set[str] = set()
    for path in Path(tasks_dir()).rglob("*.yaml"):
        config = yaml.safe_load(path.read_text().replace("!function ", ""))
        tags = config.get("tag", [])
        defined |= {config.get("task") if "group" not in config else config["group"], *tags}
    assert defined == our_task_names()


def test_every_reference_task_name_exists_for_every_language():
    names = {Path(rel).stem for rel in render() if rel.startswith("humanevalpack/")}
    for prefix in (
        "humanevalfixtests",
        "humanevalfixdocs",
        "humanevalexplaindescribe",
        "humanevalexplainsynthesize",
        "humanevalsynthesize",
        "humanevalfix",
    ):
        assert {f"{prefix}-{lang}" for lang in LANGS} <= names
    assert {"humanevalpack", "humanevalfix", "humanevalexplain", "humanevalsynthesize"} <= set(humanevalpack_groups())
    assert {f"humanevalpack-{lang}" for lang in LANGS} <= set(humanevalpack_groups())


def test_paper_generation_defaults():
    text = render()["humanevalpack/humanevalfixtests/humanevalfixtests-go.yaml"]
    config = yaml.safe_load(text.replace("!function ", ""))
    assert config["repeats"] == 20
    kwargs = config["generation_kwargs"]
    assert kwargs["do_sample"] is True and kwargs["temperature"] == 0.2 and kwargs["top_p"] == 0.95
    assert kwargs["until"] == ["\n//", "\nfunc main(", "struct", "\nfunc", "<|endoftext|>"]
    synth = yaml.safe_load(
        render()["humanevalpack/humanevalexplainsynthesize/humanevalexplainsynthesize-rust.yaml"].replace(
            "!function ", ""
        )
    )
    assert synth["repeats"] == 1
    assert [m["metric"] for m in synth["metric_list"]] == ["pass@1", "verdicts"]


def test_heldout_tasks_and_groups():
    files = render()
    heldout_tasks = [p for p, text in files.items() if p.startswith("instructeval/") and "\ntask: " in text]
    assert len(heldout_tasks) == 57 * 2 + 27 * 2 + 1 + 2 + 4
    assert "weight_by_size: true" in files["instructeval/mmlu/_instructeval_mmlu_5shot.yaml"]
    assert "weight_by_size: false" in files["instructeval/bbh/_instructeval_bbh_3shot.yaml"]
    assert "weight_by_size: false" in files["instructeval/hhh/_instructeval_hhh.yaml"]
    assert "max_gen_toks: 32" in files["instructeval/bbh/3shot/navigate.yaml"]
    scored = {
        name: group.weight_by_size
        for name, group in groups().items()
        if group.family == "instructeval" and group.metric
    }
    assert scored == {
        "instructeval_mmlu_5shot": True,
        "instructeval_mmlu_0shot": True,
        "instructeval_bbh_3shot": False,
        "instructeval_bbh_0shot": False,
        "instructeval_hhh": False,
    }


def test_name_resolution_follows_groups_and_globs():
    assert resolve_tasks(["humanevalfix"]) == {f"humanevalfixtests-{lang}" for lang in LANGS}
    assert resolve_tasks(["humanevalfix-py*"]) == {"humanevalfix-python"}
    assert resolve_tasks(["instructeval_table4"]) == {
        f"instructeval_hhh_{c}" for c in ("harmless", "helpful", "honest", "other")
    }
    languages = task_languages()
    assert languages["humanevalpack"] == set(LANGS)
    assert languages["humanevalexplaindescribe-go"] == set()
    assert languages["instructeval"] == set()


def test_all_humanevalpack_tasks_build_on_the_real_data(task_manager, humanevalpack_dir, monkeypatch):
    monkeypatch.setenv("OCTOPACK_DATA_DIR", str(humanevalpack_dir))
    names = [
        f"{prefix}-{lang}"
        for prefix in (
            "humanevalfixtests",
            "humanevalfixdocs",
            "humanevalexplaindescribe",
            "humanevalsynthesize",
            "humanevalfix",
        )
        for lang in LANGS
    ]
    loaded = task_manager.load(names)["tasks"]
    assert sorted(loaded) == sorted(names)
    for name, task in loaded.items():
        docs = list(task.test_docs())
        assert len(docs) == 164, name
        assert task.doc_to_text(docs[0]) == docs[0]["prompt_text"]
        assert task.doc_to_target(docs[0]) == "\n" + docs[0]["test"]


# ----------------------------------------------------------------------------------------- one language table

#: A seventh language, added to the table in a fresh interpreter before anything else is imported.
NEW_LANGUAGE = """
import json, sys
from lm_eval_octopack import language_facts as table
table.FACTS["kotlin"] = table.LanguageFacts("kotlin", "Kotlin", "Kotlin", "kt", (), "kotlin", 15.0)
table.LANGUAGES = tuple(table.FACTS)

from lm_eval_octopack import catalogue, doctor, executors, taskgen
from lm_eval_octopack.humanevalpack.options import RunOptions
from lm_eval_octopack.report import model, render
files = taskgen.render()
reports = executors.doctor(["kotlin"])
print(json.dumps({
    "tasks": sorted(name for name in catalogue.tasks() if name.endswith("-kotlin")),
    "pack": sorted(catalogue.task_languages()["humanevalpack"]),
    "yaml": "humanevalpack/humanevalfixtests/humanevalfixtests-kotlin.yaml" in files,
    "report": [model.parse_task("humanevalfix-kotlin"), render.HEADER],
    "doctor": [doctor.parse_languages("doctor", []), reports[0].language, reports[0].ok,
               doctor.blocked_tasks(reports[:1])],
    "executors": list(executors.LANGUAGES),
    "run_timeout": RunOptions().limits("kotlin").run_timeout,
}))
"""


def test_a_language_added_to_the_table_reaches_tasks_reports_and_doctor():
    done = subprocess.run([sys.executable, "-c", NEW_LANGUAGE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["tasks"] == sorted(
        f"{prefix}-kotlin"
        for prefix in (
            "humanevalfixtests",
            "humanevalfixdocs",
            "humanevalexplaindescribe",
            "humanevalexplainsynthesize",
            "humanevalsynthesize",
            "humanevalfix",
        )
    )
    assert "kotlin" in seen["pack"] and seen["yaml"]
    assert seen["report"] == [
        ["HumanEvalFix", "kotlin"],
        ["", *(f.display_name for f in FACTS.values()), "Kotlin", "Avg."],
    ]
    languages, reported, ok, blocked = seen["doctor"]
    assert languages[-1] == "kotlin" and reported == "kotlin" and not ok  # no executor module yet: a finding
    assert "humanevalfixtests-kotlin" in blocked[0] and "humanevalpack" in blocked[0]
    assert seen["executors"][-1] == "kotlin" and seen["run_timeout"] == 15.0


#: Literals that list languages anyway, with the reason they may. Per-language *code* (one entry per language
#: pointing at that language's implementation) is allowed; lists of names, labels or numbers are not.
ALLOWED = {
    ("lm_eval_octopack/language_facts.py", "_TABLE"),
    ("lm_eval_octopack/data/mini_build.py", "SOURCES"),  # each language's mini problems
    ("lm_eval_octopack/data/mini_build.py", "LAYOUTS"),  # each language's row layout function
    ("lm_eval_octopack/selfcheck.py", "EXPECTED_FAILURES"),  # the reference's sanity table, per language
    # The reference harness replayed as it is (compile budgets and comment markers of its scripts).
    ("benchmarks/bench_execution.py", "COMPILE_TIMEOUT"),
    ("benchmarks/bench_execution.py", "COMMENT"),
}
LABELS = {facts.display_name for facts in FACTS.values()}


def _language_lists(path: Path) -> list[str]:
    """Names of module-level assignments (or line numbers) whose literal holds four or more language names
    or display names."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, (ast.Tuple, ast.List, ast.Set, ast.Dict)):
            continue
        items = node.keys if isinstance(node, ast.Dict) else node.elts
        strings = {item.value for item in items if isinstance(item, ast.Constant) and isinstance(item.value, str)}
        if len(strings & set(LANGUAGES)) >= 4 or len(strings & LABELS) >= 4:
            found.append(node.lineno)
    assignments = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            if isinstance(target, ast.Name):
                assignments.update({line: target.id for line in range(node.lineno, node.end_lineno + 1)})
    return [assignments.get(line, f"line {line}") for line in found]


def test_no_source_file_but_the_table_lists_the_languages():
    sources = [
        p for root in ("lm_eval_octopack", "executors", "examples", "benchmarks") for p in (REPO / root).rglob("*.py")
    ]
    offenders = sorted(
        {(p.relative_to(REPO).as_posix(), name) for p in sources for name in _language_lists(p)} - ALLOWED
    )
    assert not offenders, f"derive these from lm_eval_octopack.language_facts: {offenders}"
