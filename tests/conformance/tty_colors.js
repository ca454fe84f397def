// tty.WriteStream's getColorDepth(env) and hasColors(count, env) over a table of
// environments: one line per environment, its depth and whether 2, 16, 256 and 2**24
// colours fit. Needs no terminal: both read only the env given.
'use strict';
const tty = require('tty');
const { log } = require('./trace');

const envs = [
  {},
  { FORCE_COLOR: '' }, { FORCE_COLOR: '1' }, { FORCE_COLOR: 'true' }, { FORCE_COLOR: '2' },
  { FORCE_COLOR: '3' }, { FORCE_COLOR: '0' }, { FORCE_COLOR: 'false' }, { FORCE_COLOR: '2', NO_COLOR: '1' },
  { NO_COLOR: '' }, { NODE_DISABLE_COLORS: '1', TERM: 'xterm-256color' }, { TERM: 'dumb' },
  { TERM: 'dumb', COLORTERM: 'truecolor' }, { TMUX: '1', TERM: 'screen' }, { TMUX: '', TERM: 'screen' },
  { CI: 'true' }, { CI: 'true', GITHUB_ACTIONS: 'true' }, { CI: '1', TRAVIS: '' }, { CI: '1', CI_NAME: 'codeship' },
  { CI: '', TERM: 'xterm' }, { TEAMCITY_VERSION: '9.1.0' }, { TEAMCITY_VERSION: '9.0.5' },
  { TEAMCITY_VERSION: '10.0' }, { TEAMCITY_VERSION: '8.1.2' }, { TEAMCITY_VERSION: '9.01.1' },
  { TEAMCITY_VERSION: '9.00.1' }, { TEAMCITY_VERSION: '2023' },
  { TERM_PROGRAM: 'iTerm.app' }, { TERM_PROGRAM: 'iTerm.app', TERM_PROGRAM_VERSION: '2.9' },
  { TERM_PROGRAM: 'iTerm.app', TERM_PROGRAM_VERSION: '3.4.19' }, { TERM_PROGRAM: 'HyperTerm' },
  { TERM_PROGRAM: 'MacTerm' }, { TERM_PROGRAM: 'Apple_Terminal' }, { TERM_PROGRAM: 'vscode', TERM: 'xterm-256color' },
  { COLORTERM: 'truecolor' }, { COLORTERM: '24bit' }, { COLORTERM: 'yes' }, { COLORTERM: '' },
  { TERM: 'xterm-256color' }, { TERM: 'XTERM-256color' }, { TERM: 'xterm' }, { TERM: 'screen-256color' },
  { TERM: 'rxvt-unicode-24bit' }, { TERM: 'rxvt-unicode' }, { TERM: 'mosh' }, { TERM: 'terminator' },
  { TERM: 'Eterm' }, { TERM: 'putty' }, { TERM: 'st' }, { TERM: 'linux' }, { TERM: 'con80x25' },
  { TERM: 'con132x' }, { TERM: 'cons25' }, { TERM: 'vt100' }, { TERM: 'vt220' }, { TERM: 'ansi' },
  { TERM: 'myansiterm' }, { TERM: 'color_xterm' }, { TERM: 'unknown' }, { TERM: '' },
  { TERM: 'unknown', COLORTERM: 'yes' },
];
for (const env of envs) {
  const depth = tty.WriteStream.prototype.getColorDepth(env);
  const fits = [2, 16, 256, 2 ** 24].map((n) => tty.WriteStream.prototype.hasColors(n, env));
  log(JSON.stringify(env), depth, fits.join(' '));
}
