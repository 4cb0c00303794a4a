// The zygote's script (see zygote.c): node starts once per batch server with this file, loads what every
// HumanEvalPack test loads, and forks one process per program from here. Only those processes get past
// serve(); each then runs its program as `node <main script>` would have, as the main module.
'use strict';
const Module = require('module');

const [addonPath, controlFd] = process.argv.slice(2);
const addon = { exports: {} };
process.dlopen(addon, addonPath);
delete process.env.LD_PRELOAD; // only the zygote needs it; a program's own child processes must not get it
require('node:assert');

const program = addon.exports.serve(Number(controlFd));
for (const name of ['pid', 'ppid']) {
  Object.defineProperty(process, name, { ...Object.getOwnPropertyDescriptor(process, name), value: program[name] });
}
process.chdir(program.directory);
process.argv = [process.argv[0], program.main];
process.on('exit', (code) => addon.exports.setExitCode(code | 0));
Module.runMain(program.main);
