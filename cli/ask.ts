/**
 * Asking for a password: FERRY_PASSWORD when set (scripts, tests), else a prompt on the
 * terminal without echo. Without either, USAGE: a script must set FERRY_PASSWORD.
 */
import { FerryError } from '../shared/errors.ts';

export async function askPassword(prompt: string): Promise<string> {
  const fromEnv = process.env.FERRY_PASSWORD;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const input = process.stdin;
  if (!input.isTTY) {
    throw new FerryError('BAD_REQUEST', 'A password is needed: set FERRY_PASSWORD or run ferry in a terminal.');
  }
  process.stderr.write(prompt);
  input.setRawMode(true);
  input.resume();
  let typed = '';
  try {
    for await (const chunk of input) {
      for (const char of String(chunk)) {
        if (char === '\r' || char === '\n') return typed;
        if (char === '\u0003') throw new FerryError('ABORTED', 'Cancelled.');
        if (char === '\u007f' || char === '\b') typed = typed.slice(0, -1);
        else typed += char;
      }
    }
    return typed;
  } finally {
    input.setRawMode(false);
    input.pause();
    process.stderr.write('\n');
  }
}

/**
 * A yes-or-no question on stderr, answered by a line on stdin (a terminal or a pipe):
 * true only for "y" or "yes"; the end of the input answers no.
 */
export async function askYesNo(prompt: string): Promise<boolean> {
  process.stderr.write(`${prompt} [y/N] `);
  const { createInterface } = await import('node:readline');
  const lines = createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of lines) return /^\s*y(es)?\s*$/i.test(line);
    return false;
  } finally {
    lines.close();
  }
}
