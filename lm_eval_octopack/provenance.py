"""Provenance of a run: what produced a results file, and how two runs differ.

lm-eval's results JSON already records the model, generation kwargs, seeds, ``--limit`` and every task's
config (our run options are in its ``metadata``; the options each document was scored with, resolved from
``--metadata`` and the environment, are in the samples' ``doc.octopack_options``). What it cannot know is
the machine side: toolchain versions per language, the verdict-rules version, the sandbox mode, the
execution backend. Our execution filter records those in the results file itself, as
``configs.<task>.metadata.provenance`` (so a plain ``lm_eval`` run has them too), next to the data files and
their hashes that the data loaders record in ``configs.<task>.metadata.data_source``. ``lm-eval-octopack``
(and the example scripts) also write a sidecar, ``provenance_<date>.json`` beside ``results_<date>.json``:
the only record of these for results files made before the filter recorded them. :func:`run_provenance`
merges all views; what the results file records wins over the sidecar.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

SIDECAR_PREFIX = "provenance_"
#: ``configs.<task>.metadata[PROVENANCE_KEY]``: what the execution filter used for that task.
PROVENANCE_KEY = "provenance"
_RESULTS_RE = re.compile(r"^results_(.+)\.json$")
_SEED_KEYS = ("random_seed", "numpy_seed", "torch_seed", "fewshot_seed")
_MODEL_IDENTITY = ("model", "pretrained", "path")
_REVISION_KEYS = ("revision", "dataset_revision", "data_revision")
_TASK_OPTION_KEYS = ("prompt", "backend", "run_timeout", "compile_timeout", "check_references", "describe_samples")


# --------------------------------------------------------------------------- writing (machine side)


def environment_provenance(languages: Iterable[str], data_dirs: Iterable[str] = ()) -> dict[str, Any]:
    """What only the machine that ran the evaluation knows."""
    languages = sorted(set(languages))
    return {
        **_machine_provenance(),
        "toolchains": {language: dict(_toolchain_versions(language)) for language in languages},
        "dataset_files": {d: data_file_hashes(d, languages) for d in sorted(set(data_dirs)) if d},
    }


def execution_provenance(language: str, backend: str | None) -> dict[str, Any]:
    """What scored one task's samples: recorded in its ``configs.<task>.metadata.provenance``."""
    return {
        **_machine_provenance(),
        "backend": backend or "local",
        "toolchains": {language: dict(_toolchain_versions(language))},
    }


def _machine_provenance() -> dict[str, Any]:
    import lm_eval_octopack
    from lm_eval_octopack.executors.types import VERDICT_RULES_VERSION

    return {
        "octopack_version": lm_eval_octopack.__version__,
        "verdict_rules_version": VERDICT_RULES_VERSION,
        "sandbox": os.environ.get("OCTOPACK_SANDBOX") or "bwrap",
    }


@functools.cache
def _toolchain_versions(language: str) -> tuple[tuple[str, str], ...]:
    """The tools the run's preparation found for ``language`` (checked afresh, once per process, if it was not
    prepared here: each check runs the toolchain)."""
    from lm_eval_octopack.executors.store import default_cache_dir
    from lm_eval_octopack.executors.toolchains import toolchain_versions

    return tuple(sorted(toolchain_versions(language, default_cache_dir()).items()))


def data_file_hashes(data_dir: str, languages: Iterable[str]) -> dict[str, str]:
    """sha256 of ``{lang}.jsonl`` for each language present in ``data_dir``."""
    hashes = {}
    for language in languages:
        path = Path(data_dir) / f"{language}.jsonl"
        if path.is_file():
            hashes[language] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def write_sidecar(results_file: str | Path) -> Path:
    """Write ``provenance_<date>.json`` beside ``results_<date>.json`` for the languages and data it used."""
    results_file = Path(results_file)
    results = json.loads(results_file.read_text())
    languages, data_dirs = _languages_and_data_dirs(results)
    sidecar = sidecar_path(results_file)
    sidecar.write_text(json.dumps(environment_provenance(languages, data_dirs), indent=2, sort_keys=True) + "\n")
    return sidecar


def write_sidecars_since(output_path: str | Path, since: float) -> list[Path]:
    """Sidecars for every results file under ``output_path`` written at or after ``since`` (epoch seconds)."""
    root = Path(output_path)
    candidates = [root] if root.is_file() else root.rglob("results_*.json") if root.is_dir() else []
    fresh = [path for path in candidates if _RESULTS_RE.match(path.name) and path.stat().st_mtime >= since - 1]
    return [write_sidecar(path) for path in sorted(fresh)]


def sidecar_path(results_file: Path) -> Path:
    match = _RESULTS_RE.match(results_file.name)
    stem = match.group(1) if match else results_file.stem
    return results_file.with_name(f"{SIDECAR_PREFIX}{stem}.json")


def read_sidecar(results_file: Path) -> dict[str, Any]:
    path = sidecar_path(results_file)
    return json.loads(path.read_text()) if path.is_file() else {}


def _languages_and_data_dirs(results: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    languages, data_dirs = set(), set()
    for config in (results.get("configs") or {}).values():
        language = (config.get("dataset_kwargs") or {}).get("language")
        if language:
            languages.add(language)
        data_dir = (config.get("metadata") or {}).get("data_dir") or os.environ.get("OCTOPACK_DATA_DIR")
        if language and data_dir:
            data_dirs.add(str(data_dir))
    return languages, data_dirs


# --------------------------------------------------------------------------- reading


def run_provenance(
    results: Mapping[str, Any],
    samples: Mapping[str, list[Mapping[str, Any]]] | None = None,
    sidecar: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One run's provenance from its results dict, samples (per task) and sidecar (if any)."""
    config = results.get("config") or {}
    model_args = _model_args(config.get("model_args"))
    provenance: dict[str, Any] = {
        "model": {"name": config.get("model"), **{k: v for k, v in model_args.items() if k in _MODEL_IDENTITY}},
        "model_args": {k: v for k, v in model_args.items() if k not in _MODEL_IDENTITY},
        "gen_kwargs": config.get("gen_kwargs") or {},
        "seeds": {key: config.get(key) for key in _SEED_KEYS if key in config},
        "limit": config.get("limit"),
        "lm_eval_version": results.get("lm_eval_version"),
        "transformers_version": results.get("transformers_version"),
        "chat_template_sha": results.get("chat_template_sha"),
        "system_instruction_sha": results.get("system_instruction_sha"),
        "tasks": {},
    }
    for task, task_config in (results.get("configs") or {}).items():
        first_doc = _first_doc(samples, task)
        provenance["tasks"][task] = _task_provenance(task_config, first_doc)
    for key, value in {**(sidecar or {}), **recorded_provenance(results)}.items():
        provenance[key] = value
    return provenance


def recorded_provenance(results: Mapping[str, Any]) -> dict[str, Any]:
    """The machine side as the execution filter recorded it in the results file (``{}`` if it did not), in
    the sidecar's layout: toolchains of every task's language, and the hashes of local ``{lang}.jsonl`` files."""
    configs = (results.get("configs") or {}).values()
    recorded = [(config.get("metadata") or {}).get(PROVENANCE_KEY) for config in configs]
    recorded = [entry for entry in recorded if entry]
    if not recorded:
        return {}
    merged: dict[str, Any] = {"toolchains": {}, "dataset_files": _recorded_dataset_files(configs)}
    for entry in recorded:
        merged["toolchains"].update(entry.get("toolchains") or {})
        for key, value in entry.items():
            if key != "toolchains":
                merged.setdefault(key, value)
    return merged


def _recorded_dataset_files(configs: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """``{data_dir: {language: sha256}}`` from the local sources the loaders recorded (as the sidecar has it)."""
    found: dict[str, dict[str, str]] = {}
    for config in configs:
        language = (config.get("dataset_kwargs") or {}).get("language")
        for source in (config.get("metadata") or {}).get("data_source") or []:
            digest = (source.get("files") or {}).get(f"{language}.jsonl")
            if language and source.get("local") and digest:
                found.setdefault(source["local"], {})[language] = digest
    return found


def _model_args(model_args: Any) -> dict[str, Any]:
    if isinstance(model_args, Mapping):
        return dict(model_args)
    pairs = (part.partition("=") for part in str(model_args or "").split(",") if part.strip())
    return {key.strip(): value.strip() for key, _, value in pairs}


def _first_doc(samples: Mapping[str, list[Mapping[str, Any]]] | None, task: str) -> Mapping[str, Any]:
    for line in (samples or {}).get(task) or []:
        return line.get("doc") or {}
    return {}


def _task_provenance(config: Mapping[str, Any], doc: Mapping[str, Any]) -> dict[str, Any]:
    metadata = dict(config.get("metadata") or {})
    options = doc.get("octopack_options")
    resolved = json.loads(options) if isinstance(options, str) else dict(options or {})
    dataset_kwargs = config.get("dataset_kwargs") or {}
    task = {
        "version": metadata.get("version"),
        "generation_kwargs": config.get("generation_kwargs"),
        "repeats": config.get("repeats"),
        "num_fewshot": config.get("num_fewshot"),
        "dataset": _dataset_source(config, metadata, resolved),
    }
    for key in _TASK_OPTION_KEYS:
        value = resolved.get(key, metadata.get(key))
        if value is not None:
            task[key] = value
    if dataset_kwargs.get("language"):
        task["language"] = dataset_kwargs["language"]
    return task


def _dataset_source(config: Mapping[str, Any], metadata: Mapping[str, Any], resolved: Mapping[str, Any]) -> dict:
    places = [metadata, config.get("dataset_kwargs") or {}, resolved]
    revision = next((place[key] for place in places for key in _REVISION_KEYS if place.get(key)), None)
    data_dir = resolved.get("data_dir") or metadata.get("data_dir")
    source = {"data_dir": data_dir} if data_dir else {"path": config.get("dataset_path") or "bigcode/humanevalpack"}
    if revision:
        source["revision"] = revision
    for recorded in metadata.get("data_source") or []:  # what the loader read: hub + revision or local, + sha256s
        if recorded.get("hub"):
            source.update(path=recorded["hub"], revision=recorded.get("revision"))
        source.setdefault("files", {}).update(recorded.get("files") or {})
    return source


# --------------------------------------------------------------------------- comparing


def flatten(provenance: Mapping[str, Any], tasks: Iterable[str] | None = None, hashed: bool = False) -> dict[str, str]:
    """``{"tasks.humanevalfix-python.prompt": "instruct", ...}``; per-task keys only for ``tasks``
    (default: all). With ``hashed``, local data is compared by file hashes, not by path."""
    flat: dict[str, str] = {}
    for key, value in provenance.items():
        if key == "model":
            continue
        if key == "tasks":
            for task, task_values in value.items():
                if tasks is None or task in tasks:
                    _flatten_into(flat, f"tasks.{task}", _without_hashed_paths(task_values, hashed))
        elif key == "dataset_files":
            for hashes in value.values():
                _flatten_into(flat, "dataset_files", hashes)
        else:
            _flatten_into(flat, key, value)
    return flat


def _without_hashed_paths(task_values: Mapping[str, Any], hashed: bool) -> Mapping[str, Any]:
    dataset = task_values.get("dataset") or {}
    if "data_dir" not in dataset or not (hashed or dataset.get("files")):
        return task_values
    return {**task_values, "dataset": {k: v for k, v in dataset.items() if k != "data_dir"}}


def _flatten_into(flat: dict[str, str], prefix: str, value: Any) -> None:
    if isinstance(value, Mapping):  # an empty mapping records nothing, as an absent one
        for key, inner in value.items():
            _flatten_into(flat, f"{prefix}.{key}", inner)
    else:
        flat[prefix] = json.dumps(value, sort_keys=True, default=str)


def knob_of(key: str) -> str:
    """The setting a flattened key belongs to: ``tasks.T.generation_kwargs.temperature`` -> ``temperature``,
    ``toolchains.go.go`` -> ``toolchains``, ``seeds.numpy_seed`` -> ``seeds``."""
    parts = key.split(".")
    if parts[0] == "tasks":
        parts = parts[2:] or ["tasks"]
        if parts[0] in ("generation_kwargs", "dataset") and len(parts) > 1:
            return parts[1] if parts[0] == "generation_kwargs" else "dataset"
        return parts[0]
    if parts[0] in ("gen_kwargs", "model_args") and len(parts) > 1:
        return parts[1]
    return parts[0]


def differences(a: Mapping[str, Any], b: Mapping[str, Any], tasks: Iterable[str] | None = None) -> list[dict]:
    """Settings that differ between two runs (the model's identity is not a difference):
    ``[{"key", "knob", "a", "b"}]``, sorted by key. Sections only one run records (a run without
    a sidecar has no toolchains) are not compared: :func:`unrecorded` names them."""
    hashed = bool(a.get("dataset_files")) and bool(b.get("dataset_files"))
    flat_a, flat_b = flatten(a, tasks, hashed), flatten(b, tasks, hashed)
    shared = set(a) & set(b)
    found = []
    for key in sorted(k for k in set(flat_a) | set(flat_b) if k.split(".")[0] in shared):
        value_a, value_b = flat_a.get(key, "(absent)"), flat_b.get(key, "(absent)")
        if value_a != value_b:
            found.append({"key": key, "knob": knob_of(key), "a": value_a, "b": value_b})
    return found


def provenance_warnings(found: list[dict], ablated: Iterable[str] = ()) -> list[str]:
    """Warnings for differences beyond the one knob being ablated. With ``ablated`` given, every other
    knob warns; without, a single differing knob is taken to be the ablation."""
    ablated = set(ablated)
    knobs = sorted({item["knob"] for item in found})
    suspicious = [knob for knob in knobs if knob not in ablated] if ablated else (knobs if len(knobs) > 1 else [])
    return [f"runs differ in {item['key']}: {item['a']} vs {item['b']}" for item in found if item["knob"] in suspicious]


def unrecorded(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """Provenance sections one run records and the other does not (e.g. no sidecar: plain lm_eval CLI)."""
    return sorted(set(a) ^ set(b))
