// Node's rules for a request's `headers` (`_addHeaderLines` in lib/_http_incoming.js):
// generated raw header lists (known singleton, list and cookie fields in several cases,
// set-cookie, unknown fields; repeated names) and the `headers` object Node builds from
// each, the same with `joinDuplicateHeaders`, and `headersDistinct`.
// crates/http/src/headers.rs draws the same cases from the same generator (xorshift32,
// seed 0x2545f491) and must build the same maps.
'use strict';
const { IncomingMessage } = require('http');
const { log, xorshift } = require('./trace');

const next = xorshift(0x2545f491);
const NAMES = ['Host', 'host', 'HOST', 'Content-Type', 'content-length', 'User-Agent', 'Referer', 'Authorization',
  'Proxy-Authorization', 'If-Modified-Since', 'If-Unmodified-Since', 'From', 'Location', 'Max-Forwards',
  'Retry-After', 'ETag', 'Last-Modified', 'Server', 'Age', 'Expires', 'Set-Cookie', 'set-cookie', 'Cookie',
  'COOKIE', 'Date', 'Vary', 'Connection', 'Content-Encoding', 'Cache-Control', 'Transfer-Encoding', 'Accept',
  'Accept-Encoding', 'Accept-Language', 'Content-Disposition', 'Content-Location', 'Origin', 'Upgrade', 'Expect',
  'If-Match', 'If-None-Match', 'Range', 'X-Forwarded-For', 'x-custom', 'X-CUSTOM', 'Link', 'Via', 'TE', 'Trailer',
  'Keep-Alive', 'Pragma', 'Warning', 'WWW-Authenticate', 'Proxy-Authenticate', 'Content-Range', 'Content-Language',
  'Content-MD5', 'Allow', 'DNT', 'Forwarded', 'Sec-WebSocket-Key'];
// Values as Node's parser hands them over: latin1 strings ('\u00e9' is the byte 0xE9).
const VALUES = ['a', 'b c', '', '1', '\u00e9t\u00e9', 'x, y', 'k=v'];
const CASES = 400;

for (let i = 0; i < CASES; i++) {
  const raw = [];
  for (let k = 1 + (next() % 8); k > 0; k--) {
    raw.push(NAMES[next() % NAMES.length], VALUES[next() % VALUES.length]);
  }
  const m = new IncomingMessage(null);
  m._addHeaderLines(raw, raw.length);
  const pairs = [];
  for (let k = 0; k < raw.length; k += 2) pairs.push(`${raw[k]}: ${raw[k + 1]}`);
  log(`case ${i}: ${pairs.join(' | ')} -> ${JSON.stringify(m.headers)}`);
  // The server option joinDuplicateHeaders (the fields kept once are joined too), and
  // headersDistinct (every value of every field, as a list).
  const joined = new IncomingMessage(null);
  joined.joinDuplicateHeaders = true;
  joined._addHeaderLines(raw, raw.length);
  log(`  joined -> ${JSON.stringify(joined.headers)}`);
  log(`  distinct -> ${JSON.stringify(m.headersDistinct)}`);
}
