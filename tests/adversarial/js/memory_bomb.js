const hoard = [];
while (true) hoard.push(Buffer.alloc(64 << 20, 1));
