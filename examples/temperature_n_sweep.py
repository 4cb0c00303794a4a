"""Sampling temperature x number of samples per problem (n): pass@1 and its spread.

Temperature goes through lm-eval's ``--gen_kwargs``; n is the task's ``repeats``, changed on the loaded Task
objects with ``task.set_config`` (the YAML says 20, the paper's n). The model is loaded once and shared by every
(T, n) run, so a vLLM model is not reloaded per pair.

    python examples/temperature_n_sweep.py                                   # offline self-check, mini data
    python examples/temperature_n_sweep.py --model vllm --model-args pretrained=bigcode/octocoder \\
        --temperatures 0.1 0.2 0.8 --n 1 5 20 --data-dir /data/humanevalpack
"""

from __future__ import annotations

from _common import base_parser, evaluate, load_model, markdown_table, paired_runs, pass_at_1, percent, write_report


def load_with_repeats(task_names: list[str], data_dir: str, n: int) -> list:
    from lm_eval_octopack import plugin

    tasks = plugin.task_manager(metadata={"data_dir": data_dir}).load(task_names)["tasks"]
    for task in tasks.values():
        task.set_config(key="repeats", value=n)
    return list(tasks.values())


def main(argv: list[str] | None = None) -> list[list]:
    parser = base_parser(__doc__, "temperature_n_sweep")
    parser.add_argument("--temperatures", nargs="+", type=float, default=[0.2, 0.8])
    parser.add_argument("--n", nargs="+", type=int, default=[1, 5])
    parser.add_argument("--tasks", nargs="+", default=["humanevalfix-python"])
    args = parser.parse_args(argv)

    rows = []
    model = load_model(args)
    for temperature in args.temperatures:
        for n in args.n:
            run_dir = args.output_dir / f"t{temperature}_n{n}"
            tasks = load_with_repeats(args.tasks, args.data_dir, n)
            results = evaluate(
                args, tasks, run_dir, gen_kwargs=f"temperature={temperature},do_sample=True", model=model
            )
            rows += [[temperature, n, task, percent(pass_at_1(results, task))] for task in args.tasks]
            write_report(run_dir, run_dir / "report.md")

    first = args.output_dir / f"t{args.temperatures[0]}_n{args.n[0]}"
    body = [[*row, paired_runs(first, args.output_dir / f"t{row[0]}_n{row[1]}", row[2])] for row in rows]
    table = markdown_table(["temperature", "n", "task", "pass@1 (%)", f"- {first.name} [95% CI], p"], body)
    (args.output_dir / "summary.md").write_text("# pass@1 by temperature and n\n\n" + table)
    print(table)
    return rows


if __name__ == "__main__":
    main()
