const fs = require('fs');
const fd = fs.openSync('fill.bin', 'w');
const chunk = Buffer.alloc(1 << 20);
while (true) fs.writeSync(fd, chunk);
