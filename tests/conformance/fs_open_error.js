// A read stream on a missing file: error ENOENT, then close; no open, no data.
'use strict';
const fs = require('fs');
const { log, errName } = require('./trace');
const r = fs.createReadStream('/nonexistent/millrace/file');
r.on('open', () => log('r open'));
r.on('data', () => log('r data'));
r.on('error', (e) => log('r error', errName(e), 'destroyed', r.destroyed));
r.on('close', () => log('r close'));
