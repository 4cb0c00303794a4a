// Leaves a child holding its standard output and error for 30 s, then exits silently. The reference
// (subprocess.run with capture_output and a timeout) waits for the end of output: timed out.
const { spawn } = require('child_process');
spawn('/bin/sleep', ['30'], { stdio: ['ignore', 'inherit', 'inherit'], detached: true }).unref();
