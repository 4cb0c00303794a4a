const net = require('net');
const socket = net.connect(__PORT__, '127.0.0.1');
socket.setTimeout(2000, () => { console.error('timeout'); process.exit(1); });
socket.on('connect', () => { socket.end(); process.exit(0); });
socket.on('error', (e) => { console.error('blocked: ' + e.code); process.exit(1); });
