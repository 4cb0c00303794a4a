"""The Hub loaders, offline, through lm-eval's own task loading.

A Hugging Face cache laid out as ``huggingface_hub`` lays it out
(``datasets--owner--name/{refs/main, blobs/<sha256>, snapshots/<commit>/<file> -> ../../blobs/...}``) is built
in a temporary directory from the real data (HumanEvalPack, BBH) and the DROP fixture, at the pinned commits.
A fresh interpreter then runs with ``HF_HUB_OFFLINE=1``, ``HF_HOME``/``HF_HUB_CACHE`` pointing at it and no
local data directory configured, so the tasks take the Hub path: ``plugin.task_manager()``, ``get_task_dict``,
the docs, and ``simple_evaluate``'s results file, whose ``configs`` must name the source, commit and file hashes.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import REPO_ROOT, shared_path

from lm_eval_octopack import hub
from lm_eval_octopack.heldout import bbh, drop, sources
from lm_eval_octopack.humanevalpack import data as hep_data

FIXTURES = Path(__file__).parent / "fixtures" / "heldout"
LANGUAGES = ("python", "js", "java", "go", "cpp", "rust")
BBH_TASK = "navigate"
HEP_TASKS = ("humanevalfixtests-python", "humanevalsynthesize-rust")
HELDOUT_TASKS = (f"instructeval_bbh_3shot_{BBH_TASK}", "instructeval_drop_3shot")
DATA_ENV_PREFIXES = ("OCTOPACK_DATA_DIR", "OCTOPACK_INSTRUCTEVAL_DIR", "OCTOPACK_BBH_DIR", "OCTOPACK_DROP_DIR")


def parquet_bytes(rows: list[dict]) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pylist(rows), sink)
    return sink.getvalue().to_pybytes()


def add_to_hub_cache(hub_cache: Path, repo_id: str, revision: str, files: dict[str, bytes]) -> None:
    repo_dir = hub_cache / f"datasets--{repo_id.replace('/', '--')}"
    (repo_dir / "refs").mkdir(parents=True, exist_ok=True)
    (repo_dir / "refs" / "main").write_text(revision)
    (repo_dir / "blobs").mkdir(exist_ok=True)
    for filename, content in files.items():
        blob = repo_dir / "blobs" / hashlib.sha256(content).hexdigest()
        blob.write_bytes(content)
        link = repo_dir / "snapshots" / revision / filename
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))


def jsonl_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def drop_hub_rows() -> list[dict]:
    """The fixture's validation rows in ``ucinlp/drop``'s parquet schema (what its builder produced)."""
    raw = json.loads((FIXTURES / "drop" / drop.DEV_FILE).read_text(encoding="utf-8"))
    return [
        {
            "section_id": row["section_id"],
            "query_id": row["query_id"],
            "passage": row["passage"],
            "question": row["question"],
            "answers_spans": {"spans": row["spans"], "types": ["span"] * len(row["spans"])},
        }
        for row in drop.builder_rows(raw)
    ]


@pytest.fixture(scope="module")
def hf_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    hep_dir, bbh_dir = shared_path("humanevalpack"), shared_path("bbh")
    home = tmp_path_factory.mktemp("hf-home")
    cache = home / "hub"
    hep_files = {
        hep_data.hub_filename(lang): parquet_bytes(jsonl_rows(hep_dir / f"{lang}.jsonl")) for lang in LANGUAGES
    }
    add_to_hub_cache(cache, hep_data.HUB_DATASET, hep_data.HUB_REVISION, hep_files)
    bbh_files = {}
    for task in bbh.BBH_TASKS:
        examples = json.loads((bbh_dir / f"{task}.json").read_text(encoding="utf-8"))["examples"]
        bbh_files[hub.parquet_shard(task, "test")] = parquet_bytes(examples)
    add_to_hub_cache(cache, bbh.HUB_ID, sources.BBH_REVISION, bbh_files)
    add_to_hub_cache(
        cache,
        drop.HUB_ID,
        sources.DROP_REVISION,
        {hub.parquet_shard(None, "validation"): parquet_bytes(drop_hub_rows())},
    )
    return home


def offline_env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(DATA_ENV_PREFIXES)}
    env.update(HF_HOME=str(home), HF_HUB_CACHE=str(home / "hub"), HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    return env


LOAD_SCRIPT = """
import json, sys
from lm_eval.tasks import get_task_dict
from lm_eval_octopack import plugin

tasks = get_task_dict(sys.argv[2].split(","), plugin.task_manager(metadata={"instructeval_truncate": False}))
out = {name: {"docs": list(task.test_docs()), "config": task.dump_config()} for name, task in tasks.items()}
json.dump(out, open(sys.argv[1], "w"), default=str)
"""

EVALUATE_SCRIPT = """
import json, sys
from lm_eval import simple_evaluate
from lm_eval_octopack import plugin

results = simple_evaluate(model="dummy", tasks=sys.argv[2].split(","), limit=1, bootstrap_iters=0,
                          task_manager=plugin.task_manager(metadata={"instructeval_truncate": False}),
                          confirm_run_unsafe_code=True)
json.dump(results["configs"], open(sys.argv[1], "w"), default=str)
"""


def run_offline(script: str, home: Path, out: Path, tasks: tuple[str, ...]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", script, str(out), ",".join(tasks)],
        cwd=REPO_ROOT,
        env=offline_env(home),
        capture_output=True,
        text=True,
        timeout=600,
    )


def load_offline(home: Path, tmp_path: Path, tasks: tuple[str, ...]) -> dict:
    out = tmp_path / "loaded.json"
    proc = run_offline(LOAD_SCRIPT, home, out, tasks)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())


def file_sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def expected_source(repo_id: str, revision: str, filename: str, home: Path) -> dict:
    link = home / "hub" / f"datasets--{repo_id.replace('/', '--')}" / "snapshots" / revision / filename
    return {"hub": repo_id, "revision": revision, "files": {filename: file_sha256(link.read_bytes())}}


def test_humanevalpack_and_heldout_load_from_an_offline_hub_cache(hf_home: Path, tmp_path: Path) -> None:
    loaded = load_offline(hf_home, tmp_path, HEP_TASKS + HELDOUT_TASKS)
    hep_dir = shared_path("humanevalpack")
    for task, language in zip(HEP_TASKS, ("python", "rust"), strict=True):
        rows = jsonl_rows(hep_dir / f"{language}.jsonl")
        docs = loaded[task]["docs"]
        assert [{key: doc[key] for key in rows[0]} for doc in docs] == rows
        assert loaded[task]["config"]["metadata"]["data_source"] == [
            expected_source(hep_data.HUB_DATASET, hep_data.HUB_REVISION, hep_data.hub_filename(language), hf_home)
        ]
    bbh_local = bbh.load(
        bbh_dir=str(shared_path("bbh")), instructeval_task=BBH_TASK, instructeval_shots=3, instructeval_truncate=False
    )["test"]
    assert loaded[HELDOUT_TASKS[0]]["docs"] == list(bbh_local)
    drop_local = drop.load(drop_dir=str(FIXTURES / "drop"), instructeval_truncate=False)["test"]
    assert loaded[HELDOUT_TASKS[1]]["docs"] == list(drop_local)
    assert loaded[HELDOUT_TASKS[0]]["config"]["metadata"]["data_source"] == [
        expected_source(bbh.HUB_ID, sources.BBH_REVISION, hub.parquet_shard(BBH_TASK, "test"), hf_home)
    ]
    assert loaded[HELDOUT_TASKS[1]]["config"]["metadata"]["data_source"] == [
        expected_source(drop.HUB_ID, sources.DROP_REVISION, hub.parquet_shard(None, "validation"), hf_home)
    ]


@pytest.mark.slow
def test_results_configs_name_the_hub_commit_and_file_hashes(hf_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "configs.json"
    tasks = (HEP_TASKS[0], HELDOUT_TASKS[0])
    proc = run_offline(EVALUATE_SCRIPT, hf_home, out, tasks)
    assert proc.returncode == 0, proc.stderr[-3000:]
    configs = json.loads(out.read_text())
    hep_source = configs[HEP_TASKS[0]]["metadata"]["data_source"]
    assert [(s["hub"], s["revision"]) for s in hep_source] == [(hep_data.HUB_DATASET, hep_data.HUB_REVISION)]
    bbh_source = configs[HELDOUT_TASKS[0]]["metadata"]["data_source"]
    assert [(s["hub"], s["revision"]) for s in bbh_source] == [(bbh.HUB_ID, sources.BBH_REVISION)]


def test_an_empty_offline_cache_says_how_to_use_local_files(tmp_path: Path) -> None:
    out = tmp_path / "unused.json"
    proc = run_offline(LOAD_SCRIPT, tmp_path / "empty-hf-home", out, ("humanevalfixtests-python",))
    assert proc.returncode != 0
    assert "--metadata data_dir=" in proc.stderr and "OCTOPACK_DATA_DIR" in proc.stderr
    assert hep_data.HUB_REVISION[:12] in proc.stderr
    proc = run_offline(LOAD_SCRIPT, tmp_path / "empty-hf-home", out, (HELDOUT_TASKS[0],))
    assert proc.returncode != 0
    assert "offline mode is on" in proc.stderr and "--metadata bbh_dir=PATH" in proc.stderr


def test_local_data_is_recorded_with_its_path_and_file_hashes(tmp_path: Path) -> None:
    hep_dir = shared_path("humanevalpack")
    out = tmp_path / "loaded.json"
    env_home = tmp_path / "empty-hf-home"
    script = LOAD_SCRIPT.replace('{"instructeval_truncate": False}', f'{{"data_dir": {str(hep_dir)!r}}}')
    proc = run_offline(script, env_home, out, ("humanevalsynthesize-go",))
    assert proc.returncode == 0, proc.stderr[-3000:]
    [source] = json.loads(out.read_text())["humanevalsynthesize-go"]["config"]["metadata"]["data_source"]
    assert source == {
        "local": str(hep_dir.resolve()),
        "files": {"go.jsonl": file_sha256((hep_dir / "go.jsonl").read_bytes())},
    }


def test_snapshot_commit_is_read_from_the_cache_path() -> None:
    path = Path("/c/datasets--a--b/snapshots") / ("f" * 40) / "x" / "test-00000-of-00001.parquet"
    assert hub.snapshot_commit(path, "main") == "f" * 40
    assert hub.snapshot_commit(Path("/elsewhere/file.parquet"), "main") == "main"


def test_sources_from_one_origin_merge_their_files() -> None:
    recorded: list[dict] = []
    hub.merge_source(recorded, {"local": "/d", "files": {"dev/a.csv": "1"}})
    hub.merge_source(recorded, {"local": "/d", "files": {"test/a.csv": "2"}})
    hub.merge_source(recorded, {"hub": "o/n", "revision": "r", "files": {"x": "3"}})
    assert recorded == [
        {"local": "/d", "files": {"dev/a.csv": "1", "test/a.csv": "2"}},
        {"hub": "o/n", "revision": "r", "files": {"x": "3"}},
    ]


def test_heldout_local_files_are_recorded_in_the_task_config() -> None:
    from lm_eval.tasks import get_task_dict

    from lm_eval_octopack import plugin

    bbh_dir = shared_path("bbh")
    manager = plugin.task_manager(metadata={"bbh_dir": str(bbh_dir), "instructeval_truncate": False})
    [task] = get_task_dict([HELDOUT_TASKS[0]], manager).values()
    sha = file_sha256((bbh_dir / f"{BBH_TASK}.json").read_bytes())
    assert task.dump_config()["metadata"]["data_source"] == [
        {"local": str(bbh_dir.resolve()), "files": {f"{BBH_TASK}.json": sha}}
    ]


def test_our_cli_reports_an_unreachable_dataset_in_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "lm_eval_octopack.cli",
            "--model",
            "dummy",
            "--tasks",
            "humanevalfixtests-python",
            "--limit",
            "1",
            "--confirm_run_unsafe_code",
        ],
        cwd=tmp_path,
        env=offline_env(tmp_path / "empty-hf-home"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert "lm-eval-octopack: error:" in proc.stderr and "OCTOPACK_DATA_DIR" in proc.stderr
