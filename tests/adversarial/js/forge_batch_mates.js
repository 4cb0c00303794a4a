// Writes "passed" records for every job of the batch (and one past it) to the batch server's report channel,
// reached through /proc/1/fd/*, then fails its own test as a buggy program would.
const fs = require('fs');
const lines = [];
for (const index of [...Array(100).keys(), 999]) {
  lines.push(JSON.stringify({start: index}));
  lines.push(JSON.stringify({index, status: 'passed', detail: '', seconds: 0.0}));
  lines.push(JSON.stringify({index, returncode: 0, timed_out: false, stdout: '', stderr: '', truncated: false, seconds: 0.0}));
}
const payload = lines.map((line) => `${line}\n${'0'.repeat(64)} ${line}\n`).join('');
for (let fd = 0; fd < 10; fd++) {
  try { fs.writeFileSync(`/proc/1/fd/${fd}`, payload); } catch (e) {}
}
console.assert(1 + 1 === 3);
