// Questions at the terminal. On a TTY the password is read in raw mode and never echoed; when stdin
// is a pipe (scripts, tests) answers are simply the next lines, and prompts still go to stderr so
// stdout stays clean.
import { createInterface, type Interface } from 'node:readline';
import { DeviceAppError, EXIT } from './app-error.ts';

/** The lines of a stream, one at a time, whether they arrived before or after they were asked for. */
export class LineReader {
  #lines: string[] = [];
  #waiters: ((line: string | undefined) => void)[] = [];
  #ended = false;
  #readline: Interface;

  constructor(input: NodeJS.ReadableStream) {
    this.#readline = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY, terminal: false });
    this.#readline.on('line', (line) => {
      const waiter = this.#waiters.shift();
      if (waiter) waiter(line);
      else this.#lines.push(line);
    });
    this.#readline.on('close', () => {
      this.#ended = true;
      for (const waiter of this.#waiters.splice(0)) waiter(undefined);
    });
  }

  /** The next line, or undefined once the input has ended. */
  next(): Promise<string | undefined> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.#ended) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  close(): void {
    this.#readline.close();
  }
}

export interface Prompter {
  ask(question: string): Promise<string>;
  askSecret(question: string): Promise<string>;
  close(): void;
}

function noAnswer(question: string): DeviceAppError {
  return new DeviceAppError(`No answer for "${question.trim()}": the input ended.`, EXIT.noInput);
}

/**
 * A terminal in raw mode, read by us: the email is echoed, the password is not, and whatever was
 * typed ahead (or pasted) past one answer is kept for the next question.
 */
function terminalPrompter(input: NodeJS.ReadStream, output: NodeJS.WriteStream): Prompter {
  let typedAhead = '';
  const readLine = (question: string, echo: boolean): Promise<string> => {
    output.write(question);
    return new Promise((resolve, reject) => {
      let line = '';
      const finish = (error?: DeviceAppError): void => {
        input.off('data', onData);
        input.setRawMode(false);
        input.pause();
        output.write('\n');
        if (error) reject(error);
        else resolve(line);
      };
      const take = (): boolean => {
        while (typedAhead) {
          const char = String.fromCodePoint(typedAhead.codePointAt(0) ?? 0);
          typedAhead = typedAhead.slice(char.length);
          if (char === '\r' || char === '\n') {
            if (char === '\r' && typedAhead.startsWith('\n')) typedAhead = typedAhead.slice(1);
            finish();
            return true;
          }
          if (char === '\u0003') {
            finish(new DeviceAppError('Cancelled.', 130));
            return true;
          }
          if (char === '\u0004' && !line) {
            finish(noAnswer(question));
            return true;
          }
          if (char === '\u007f' || char === '\b') {
            if (line && echo) output.write('\b \b');
            line = [...line].slice(0, -1).join('');
          } else if (char === '\u0015') {
            if (echo) output.write('\b \b'.repeat([...line].length));
            line = '';
          } else if (char >= ' ') {
            line += char;
            if (echo) output.write(char);
          }
        }
        return false;
      };
      const onData = (chunk: Buffer): void => {
        typedAhead += chunk.toString('utf8');
        take();
      };
      input.setRawMode(true);
      if (take()) return;
      input.on('data', onData);
      input.resume();
    });
  };
  return {
    ask: (question) => readLine(question, true),
    askSecret: (question) => readLine(question, false),
    close() {
      input.pause();
    },
  };
}

function pipedPrompter(input: NodeJS.ReadStream, output: NodeJS.WriteStream): Prompter {
  const lines = new LineReader(input);
  const ask = async (question: string): Promise<string> => {
    output.write(question);
    const line = await lines.next();
    output.write('\n');
    if (line === undefined) throw noAnswer(question);
    return line;
  };
  return { ask, askSecret: ask, close: () => lines.close() };
}

/** Questions on stderr; answers from the terminal, or line by line from a pipe. */
export function createPrompter(
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WriteStream = process.stderr,
): Prompter {
  return input.isTTY ? terminalPrompter(input, output) : pipedPrompter(input, output);
}

/** A number from 1 to `count`, asked until one is given; an empty answer is 1. Returns the 0-based index. */
export async function askChoice(prompter: Prompter, question: string, count: number): Promise<number> {
  for (;;) {
    const answer = (await prompter.ask(question)).trim();
    if (!answer) return 0;
    const choice = Number(answer);
    if (Number.isInteger(choice) && choice >= 1 && choice <= count) return choice - 1;
  }
}
