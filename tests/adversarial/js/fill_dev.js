const fs = require('fs');
const written = ['/dev/octopack-fill', '/octopack-fill'].filter((path) => {
    try { fs.writeFileSync(path, Buffer.alloc(1 << 20, 120)); return true; } catch (e) { return false; }
});
if (written.length === 0) { console.error('contained'); process.exit(1); }
