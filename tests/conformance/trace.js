// Shared by the scenarios: one line per observable event.
'use strict';
const log = (...parts) => console.log(parts.join(' '));
const errName = (e) => (e && (e.code || e.message)) || 'null';
module.exports = { log, errName };
