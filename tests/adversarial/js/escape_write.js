const fs = require('fs');
const path = require('path');
let breached = false;
try { fs.unlinkSync('__CANARY__'); breached = true; } catch (e) {}
try { fs.writeFileSync(path.join('__CANARY_DIR__', 'intruder.txt'), 'escaped'); breached = true; } catch (e) {}
if (!breached) console.error('contained');
