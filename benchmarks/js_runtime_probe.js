// Warm-node candidates for bench_js_runtime.py: run each program file named on stdin (one path a line) and print
// one JSON line per program: {"ms": run time, "out": bytes of stdout + stderr}.
//   node js_runtime_probe.js worker   a fresh worker thread per program (its stdout/stderr captured)
//   node js_runtime_probe.js vm       vm.runInNewContext per program (no isolation at all; a floor, not a candidate)
"use strict";
const fs = require("fs");
const readline = require("readline");
const vm = require("vm");
const { Worker } = require("worker_threads");

const mode = process.argv[2];

function runWorker(path) {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    let bytes = 0;
    const worker = new Worker(path, { stdout: true, stderr: true, env: process.env });
    worker.stdout.on("data", (chunk) => (bytes += chunk.length));
    worker.stderr.on("data", (chunk) => (bytes += chunk.length));
    worker.on("error", (error) => (bytes += String(error).length)); // an uncaught exception prints in node
    worker.on("exit", () => resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, out: bytes }));
  });
}

function runVm(path) {
  const start = process.hrtime.bigint();
  let bytes = 0;
  const sink = { log: (...a) => (bytes += a.join(" ").length + 1), error: (...a) => (bytes += a.join(" ").length + 1) };
  sink.assert = (ok, ...a) => { if (!ok) bytes += 17 + a.join(" ").length; };
  try {
    vm.runInNewContext(fs.readFileSync(path, "utf8"), { console: sink, require }, { timeout: 10000 });
  } catch (error) {
    bytes += String(error).length;
  }
  return Promise.resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, out: bytes });
}

async function main() {
  const lines = readline.createInterface({ input: process.stdin });
  for await (const path of lines) {
    if (!path) continue;
    const result = await (mode === "worker" ? runWorker(path) : runVm(path));
    process.stdout.write(JSON.stringify(result) + "\n");
  }
}

main();
