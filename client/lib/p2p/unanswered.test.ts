import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../shared/errors.ts';
import { Unanswered } from './unanswered.ts';

describe('Unanswered', () => {
  it('answers and refuses requests oldest first, and settles every one when the connection goes', async () => {
    const requests = new Unanswered<string>();
    const first = requests.ask(true);
    const second = requests.ask(true).catch((error: unknown) => error);
    const third = requests.ask(true).catch((error: unknown) => error);
    requests.answer('one');
    requests.refuse(new FerryError('MAILBOX_FULL', 'full'));
    requests.dropAll(new FerryError('NETWORK_ERROR', 'gone'));
    expect(await first).toBe('one');
    expect(((await second) as FerryError).code).toBe('MAILBOX_FULL');
    expect(((await third) as FerryError).code).toBe('NETWORK_ERROR');
    // Nothing waits any more: a late answer reaches no one.
    requests.answer('late');
  });

  it('rejects at once a request that could not be sent', async () => {
    const failed = await new Unanswered<boolean>().ask(false).catch((error: unknown) => error);
    expect((failed as FerryError).code).toBe('NETWORK_ERROR');
  });
});
