"""The JavaScript zygote (``executors/languages/js_support``): batched programs are forked from a warm node.

Real bubblewrap, real node. Batched (one server, the zygote forking each program) and alone (a fresh ``node
test.js``, as the reference runs it) must give the same verdict for what a program can observe of its own
process, and a hostile program must not be able to disturb the zygote for the programs after it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lm_eval_octopack.executors import Limits, Program, SandboxUnavailable, ToolchainMissing, default_cache_dir
from lm_eval_octopack.executors.backends.local import LocalBackend
from lm_eval_octopack.executors.languages import js
from test_batch_isolation import buggy_program
from test_executors_adversarial import good_program

LIMITS = Limits(run_timeout=3.0)

#: Programs and the verdict a fresh node gives them; each prints only when something is not as in a fresh node.
FIDELITY = {
    "own_process": """
const fs = require('fs');
const wrong = [];
if (process.pid !== Number(fs.readlinkSync('/proc/self'))) wrong.push('pid');
if (process.ppid === process.pid || process.ppid !== Number(fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[1])) wrong.push('ppid');
if (process.cwd() !== __dirname || fs.realpathSync('.') !== fs.realpathSync(__dirname)) wrong.push('cwd');
if (require.main !== module || process.argv.length !== 2 || process.argv[1] !== __filename) wrong.push('main');
if ('LD_PRELOAD' in process.env) wrong.push('env');
if (require('child_process').execSync('printenv LD_PRELOAD || true').toString() !== '') wrong.push('child env');
if (wrong.length) console.log(wrong.join(' '));
""",
    "late_output": "setTimeout(() => console.log('late'), 30);",
    "exit_listener_output": "process.on('exit', () => console.error('bye'));",
    "uncaught": "throw new Error('boom');",
    "console_assert": "console.assert(1 === 2);",
    "silent_exit_code": "process.exit(3);",
    "js_md5": "const md5 = require('js-md5'); if (md5('a') !== '0cc175b9c0f1b6a831c399e269772661') console.log(md5('a'));",
    "garbage_heavy": "const kept = []; for (let i = 0; i < 3e5; i++) { kept.push({ i, s: 'x'.repeat(i % 50) }); if (kept.length > 5e4) kept.length = 0; }",
    "hang": "while (true) {}",
}
EXPECTED = {
    "own_process": "passed",
    "late_output": "failed",
    "exit_listener_output": "failed",
    "uncaught": "failed",
    "console_assert": "failed",
    "silent_exit_code": "passed",
    "js_md5": "passed",
    "garbage_heavy": "passed",
    "hang": "timeout",
}
FORKED_FROM_ZYGOTE = (
    "if (require('fs').readFileSync('/proc/self/maps', 'utf8').includes('zygote.so')) console.log('forked');"
)


def run(sources: list[str], batch_size: int) -> list:
    try:
        backend = LocalBackend(
            workers=1,
            store=False,
            sandbox="bwrap",
            progress=False,
            cache_dir=default_cache_dir(),
            batch_size=batch_size,
            retry_timeouts=False,
        )
        return backend.run([Program("js", source, LIMITS) for source in sources])
    except SandboxUnavailable as e:
        pytest.skip(f"bubblewrap unavailable: {e}")
    except ToolchainMissing as e:
        pytest.skip(f"node cannot run here: {e}")


@pytest.fixture
def zygote_built() -> None:
    if run([good_program("js")], 1) and js.zygote_spec(js.LANGUAGE.node, default_cache_dir()) is None:
        pytest.skip("no zygote on this machine (no C compiler, or a node it cannot serve)")


def test_batched_programs_are_forked_from_the_zygote_and_alone_ones_are_not(zygote_built, monkeypatch) -> None:
    sources = [FORKED_FROM_ZYGOTE + "\n" * i for i in range(2)]
    assert [(v.status, v.detail) for v in run(sources, 64)] == [("failed", "forked")] * 2
    assert [v.status for v in run(sources, 1)] == ["passed"] * 2
    monkeypatch.setenv(js.ZYGOTE_ENV, "0")
    assert [v.status for v in run(sources, 64)] == ["passed"] * 2


def test_a_forked_program_gets_the_verdict_of_a_fresh_node(zygote_built) -> None:
    names = list(FIDELITY)
    batched, alone = run(list(FIDELITY.values()), 64), run(list(FIDELITY.values()), 1)
    assert {name: v.status for name, v in zip(names, batched, strict=True)} == EXPECTED
    assert {name: v.status for name, v in zip(names, alone, strict=True)} == EXPECTED
    uncaught = names.index("uncaught")
    assert "Error: boom" in batched[uncaught].detail and "Error: boom" in alone[uncaught].detail


def test_each_forked_program_draws_its_own_math_random(zygote_built) -> None:
    sources = [f"console.log(Math.random()); // {i}" for i in range(4)]
    details = [v.detail for v in run(sources, 64)]
    assert len(set(details)) == 4, details


# Each attack prints only when it could not be carried out, so its own verdict "passed" shows that it was.
ZYGOTE_PIDS = """
const fs = require('fs');
const zygotes = fs.readdirSync('/proc').filter((name) => /^[0-9]+$/.test(name) && Number(name) !== process.pid)
  .filter((pid) => {
    try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('zygote.js'); } catch { return false; }
  });
if (zygotes.length !== 1) console.log('zygotes found:', zygotes);
"""
ATTACKS = {
    "kill": ZYGOTE_PIDS + "for (const pid of zygotes) process.kill(Number(pid), 'SIGKILL');",
    "stop": ZYGOTE_PIDS + "for (const pid of zygotes) process.kill(Number(pid), 'SIGSTOP');",
    "inspector": ZYGOTE_PIDS + "for (const pid of zygotes) process.kill(Number(pid), 'SIGUSR1');",
    "limits": ZYGOTE_PIDS
    + "const { execSync } = require('child_process');\n"
    + "for (const pid of [...zygotes, '1']) {\n"
    + "  execSync(`prlimit --pid ${pid} --nofile=8:8 --as=50000000:50000000 --nproc=2:2`);\n"
    + "  execSync(`renice -n 19 -p ${pid} >/dev/null && taskset -p 1 ${pid} >/dev/null && ionice -c 3 -p ${pid}`);\n"
    + "}",
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_a_program_cannot_disturb_the_zygote_for_the_programs_after_it(attack: str, zygote_built) -> None:
    """Each attack runs first in its batch, and again later (on a replaced zygote, or after a server that found
    its own limits changed has stopped: alone); the honest programs behind it keep their verdicts.

    A batch whose first program was not forked (its server could not use a zygote just then, which costs only
    time) is run again, at most twice; the attack must be carried out in one of them."""
    honest = [good_program("js") + "\n" * (i + 1) for i in range(3)] + [buggy_program("js", i) for i in range(2)]
    for _ in range(3):
        verdicts = run([ATTACKS[attack], *honest, ATTACKS[attack] + "\n", *honest[:2]], 64)
        statuses = [v.status for v in verdicts]
        assert statuses[1:6] == ["passed"] * 3 + ["failed"] * 2, [(v.status, v.detail[:200]) for v in verdicts]
        assert statuses[7:] == ["passed"] * 2
        if verdicts[0].detail.strip() != "zygotes found: []":
            break
    assert statuses[0] == "passed", verdicts[0].detail  # the attack was carried out


def test_without_a_c_compiler_there_is_no_zygote_and_programs_still_run(tmp_path: Path, monkeypatch) -> None:
    node = js.LANGUAGE.node
    monkeypatch.setenv("PATH", str(tmp_path))  # no cc, no gcc
    assert js.build_zygote(node, tmp_path) is None
    assert js.zygote_spec(node, tmp_path) is None
    monkeypatch.setenv("PATH", os.environ["PATH"])
    assert [v.status for v in run([good_program("js") + "\n//x", buggy_program("js", 7)], 64)] == ["passed", "failed"]


def test_a_node_the_zygote_cannot_serve_is_recorded_as_unusable(tmp_path: Path, monkeypatch) -> None:
    fake_node = tmp_path / "node"
    fake_node.write_text(
        "#!/bin/sh\n[ \"$1\" = --version ] && echo v99.0.0 && exit 0\necho 'no such node' >&2\nexit 1\n"
    )
    fake_node.chmod(0o755)
    assert js.build_zygote(str(fake_node), tmp_path) is None
    directory = js.zygote_dir(str(fake_node), tmp_path)
    assert "did not start" in (directory / "unusable").read_text()
    assert js.zygote_spec(str(fake_node), tmp_path) is None
