// Errors with stable codes (undici style): the CLI maps a code to one line and an exit
// code without matching on message text.

export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;

export type SyndropErrorCode =
  | 'SYNDROP_ERR_USAGE'
  | 'SYNDROP_ERR_NOT_ROOT'
  | 'SYNDROP_ERR_NO_TUN'
  | 'SYNDROP_ERR_TUN_BUSY'
  | 'SYNDROP_ERR_NO_LAB'
  | 'SYNDROP_ERR_NOT_RUNNING'
  | 'SYNDROP_ERR_ALREADY_RUNNING'
  | 'SYNDROP_ERR_PORT_IN_USE'
  | 'SYNDROP_ERR_BAD_SYSCTL'
  | 'SYNDROP_ERR_UNKNOWN_SYSCTL'
  | 'SYNDROP_ERR_BAD_PROFILE'
  | 'SYNDROP_ERR_CONTROL'
  | 'SYNDROP_ERR_COMMAND_FAILED'
  | 'SYNDROP_ERR_MISSING_TOOL'
  | 'SYNDROP_ERR_BAD_CAPTURE';

const usageCodes: ReadonlySet<SyndropErrorCode> = new Set([
  'SYNDROP_ERR_USAGE',
  'SYNDROP_ERR_BAD_SYSCTL',
  'SYNDROP_ERR_UNKNOWN_SYSCTL',
  'SYNDROP_ERR_BAD_PROFILE',
]);

/** An expected failure: printed as one line, never with a stack trace. */
export class SyndropError extends Error {
  readonly code: SyndropErrorCode;
  readonly exitCode: number;

  constructor(code: SyndropErrorCode, message: string, exitCode?: number) {
    super(message);
    this.name = 'SyndropError';
    this.code = code;
    this.exitCode = exitCode ?? (usageCodes.has(code) ? EXIT_USAGE : EXIT_RUNTIME);
  }
}

export function usageError(message: string): SyndropError {
  return new SyndropError('SYNDROP_ERR_USAGE', message, EXIT_USAGE);
}
