// Errors on the control socket, from one table each side reads: which codes may cross the wire
// (and the exit code the CLI gives each), and every failure the control layer itself reports
// (its code and its one-line message). The server encodes with encodeError, the client decodes
// with decodeError; neither builds a code or a message of its own.

import { EXIT_RUNTIME, EXIT_USAGE, SyndropError, type SyndropErrorCode } from '../errors.js';

/**
 * Every code a reply may carry → the exit code the CLI gives it. A Record over the union makes
 * the compiler insist that every code is listed; the control unit tests check it agrees with
 * SyndropError's own default.
 */
export const ERROR_CODES: Readonly<Record<SyndropErrorCode, number>> = {
  SYNDROP_ERR_USAGE: EXIT_USAGE,
  SYNDROP_ERR_NOT_ROOT: EXIT_RUNTIME,
  SYNDROP_ERR_NO_TUN: EXIT_RUNTIME,
  SYNDROP_ERR_TUN_BUSY: EXIT_RUNTIME,
  SYNDROP_ERR_NO_LAB: EXIT_RUNTIME,
  SYNDROP_ERR_NOT_RUNNING: EXIT_RUNTIME,
  SYNDROP_ERR_ALREADY_RUNNING: EXIT_RUNTIME,
  SYNDROP_ERR_PORT_IN_USE: EXIT_RUNTIME,
  SYNDROP_ERR_BAD_SYSCTL: EXIT_USAGE,
  SYNDROP_ERR_UNKNOWN_SYSCTL: EXIT_USAGE,
  SYNDROP_ERR_BAD_PROFILE: EXIT_USAGE,
  SYNDROP_ERR_CONTROL: EXIT_RUNTIME,
  SYNDROP_ERR_COMMAND_FAILED: EXIT_RUNTIME,
  SYNDROP_ERR_MISSING_TOOL: EXIT_RUNTIME,
  SYNDROP_ERR_BAD_CAPTURE: EXIT_RUNTIME,
};

export function isSyndropErrorCode(code: unknown): code is SyndropErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

/** The error half of a reply line. */
export interface ControlErrorBody {
  code: string;
  message: string;
}

/** The ways an exchange fails that are the control layer's own, not a command's. */
export type ControlFailure =
  // server: the request line
  | 'bad-json'
  | 'not-object'
  | 'no-command'
  | 'bad-args'
  | 'unknown-command'
  | 'line-too-long'
  | 'internal'
  // either side: the socket file
  | 'not-running'
  | 'not-root'
  | 'already-running'
  | 'not-a-socket'
  // client: the connection and the reply
  | 'socket'
  | 'connect-timeout'
  | 'reply-timeout'
  | 'closed'
  | 'bad-reply'
  | 'reply-too-large';

const FAILURES: Readonly<Record<ControlFailure, { code: SyndropErrorCode; message: (detail: string) => string }>> = {
  'bad-json': { code: 'SYNDROP_ERR_CONTROL', message: () => 'request is not valid JSON' },
  'not-object': { code: 'SYNDROP_ERR_CONTROL', message: () => 'request must be a JSON object' },
  'no-command': { code: 'SYNDROP_ERR_CONTROL', message: () => "request has no 'cmd'" },
  'bad-args': { code: 'SYNDROP_ERR_CONTROL', message: () => "'args' must be a JSON object" },
  'unknown-command': { code: 'SYNDROP_ERR_CONTROL', message: (cmd) => `unknown command '${cmd}'` },
  'line-too-long': { code: 'SYNDROP_ERR_CONTROL', message: (max) => `request line longer than ${max} bytes: ignored` },
  internal: { code: 'SYNDROP_ERR_CONTROL', message: (why) => `internal error: ${why}` },
  'not-running': {
    code: 'SYNDROP_ERR_NOT_RUNNING',
    message: (path) => `no running syndrop instance at ${path}: start one with 'syndrop run'`,
  },
  'not-root': { code: 'SYNDROP_ERR_NOT_ROOT', message: () => 'the control socket is root-only: run as root' },
  'already-running': {
    code: 'SYNDROP_ERR_ALREADY_RUNNING',
    message: (path) => `another 'syndrop run' is serving ${path}: stop it first or use SYNDROP_INSTANCE`,
  },
  'not-a-socket': {
    code: 'SYNDROP_ERR_CONTROL',
    message: (path) => `${path} exists and is not a socket: remove it or choose another path`,
  },
  socket: { code: 'SYNDROP_ERR_CONTROL', message: (detail) => `control socket ${detail}` },
  'connect-timeout': { code: 'SYNDROP_ERR_CONTROL', message: (path) => `control socket ${path}: no connection within the timeout` },
  'reply-timeout': { code: 'SYNDROP_ERR_CONTROL', message: (detail) => `no reply from ${detail}` },
  closed: {
    code: 'SYNDROP_ERR_CONTROL',
    message: (path) => `control socket ${path}: the server closed the connection before replying`,
  },
  'bad-reply': { code: 'SYNDROP_ERR_CONTROL', message: (path) => `control socket ${path}: reply is not valid JSON` },
  'reply-too-large': { code: 'SYNDROP_ERR_CONTROL', message: (path) => `control socket ${path}: reply too large` },
};

/** A failure of the control layer itself; `failure` says which, `code` is what crosses the wire. */
export class ControlError extends SyndropError {
  readonly failure: ControlFailure;

  constructor(failure: ControlFailure, detail = '') {
    const { code, message } = FAILURES[failure];
    super(code, message(detail), ERROR_CODES[code]);
    this.name = 'ControlError';
    this.failure = failure;
  }
}

/** Server side: what a thrown error looks like on the wire. Anything not a SyndropError is a bug. */
export function encodeError(error: unknown): ControlErrorBody {
  if (error instanceof SyndropError && isSyndropErrorCode(error.code)) return { code: error.code, message: error.message };
  if (error instanceof SyndropError) return { code: 'SYNDROP_ERR_CONTROL', message: error.message };
  return bodyOf(new ControlError('internal', error instanceof Error ? error.message : String(error)));
}

export function bodyOf(error: SyndropError): ControlErrorBody {
  return { code: error.code, message: error.message };
}

/** Client side: the SyndropError an error reply stands for; a code this build does not know is SYNDROP_ERR_CONTROL. */
export function decodeError(body: unknown): SyndropError {
  const { code, message } = (typeof body === 'object' && body !== null ? body : {}) as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : 'request failed';
  const known: SyndropErrorCode = isSyndropErrorCode(code) ? code : 'SYNDROP_ERR_CONTROL';
  return new SyndropError(known, text, ERROR_CODES[known]);
}
