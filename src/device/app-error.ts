// A failure of the terminal device app that the user can act on: a sentence for the terminal and an
// exit code from sysexits.h, so scripts can tell "wrong password" from "server down".

export const EXIT = {
  failure: 1,
  /** EX_DATAERR: the device file is not one we wrote. */
  badFile: 65,
  /** EX_NOINPUT: no device file, or no answer at a prompt. */
  noInput: 66,
  /** EX_UNAVAILABLE: the server cannot be reached or answered something that is not Twostep. */
  unavailable: 69,
  /** EX_CANTCREAT: the device file cannot be written. */
  cantCreate: 73,
  /** EX_NOPERM: the server refused: wrong password, device removed, credential no longer valid. */
  refused: 77,
} as const;

export class DeviceAppError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT.failure) {
    super(message);
    this.name = 'DeviceAppError';
    this.exitCode = exitCode;
  }
}
