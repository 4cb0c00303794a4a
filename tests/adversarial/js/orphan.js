const { spawn } = require('child_process');
spawn('sh', ['-c', 'sleep 60; echo __MARKER__'], { detached: true, stdio: 'ignore' }).unref();
console.error('spawned an orphan');
