/**
 * A share link's control tables and their dispatcher: each side has a slot for every type
 * of frames.ts, and over in-memory links the real pieces meet through them: the
 * recipient's PeerRecords pulls, acknowledges and stops; the sender's PullWindow moves and
 * stops; a refusal hands the recipient's stream to the server. Anything else closes the
 * channel with INVALID_MESSAGE naming the type and who sent it.
 */
import { describe, expect, it } from 'vitest';
import { FerryError } from '../../../../shared/errors.ts';
import { type ControlMessage, type ControlMessageOf, controlMessageSchema } from '../../../../shared/p2p/frames.ts';
import { PeerRecords, type RecordSource } from '../../../../shared/p2p/peer-records.ts';
import { ACK_EVERY_RECORDS, PullWindow, WINDOW_RECORDS } from '../../../../shared/p2p/pull-window.ts';
import { flush, MemoryChannel } from '../../../../shared/p2p/session-test-kit.ts';
import { type RecordLayout, recordCount } from '../../../../shared/records.ts';
import type { ShareHandlers, ShareHostContext, SharePullContext } from './context.ts';
import { dispatchShareControl } from './dispatch.ts';
import { SHARE_HOST_HANDLERS, SHARE_PULL_HANDLERS } from './index.ts';
import { notOnShareLinks } from './not-on-share-links.ts';

const TICKET = 'T'.repeat(43);
const BIG: RecordLayout = { size: 100 * 65_536, recordSize: 65_536 };
const SMALL: RecordLayout = { size: 10, recordSize: 65_536 };

/** The sender's tab as the handlers see it: real PullWindows, a refusal for a file it does not hold. */
class Host {
  readonly pulls = new Map<number, PullWindow>();
  readonly closed: FerryError[] = [];
  readonly context: ShareHostContext;
  constructor(link: MemoryChannel, layouts: ReadonlyMap<number, RecordLayout>) {
    this.context = {
      from: 'A recipient',
      close: (error) => this.closed.push(error),
      serve: ({ file, from }) => {
        this.pulls.get(file)?.stop();
        this.pulls.delete(file);
        const layout = layouts.get(file);
        if (!layout) {
          link.sendControl({ type: 'pull-refused', file, code: 'FILE_NOT_FOUND', message: 'Not open.' });
          return;
        }
        this.pulls.set(file, new PullWindow(from, recordCount(layout)));
      },
      pull: (file) => this.pulls.get(file),
      forget: (file) => this.pulls.delete(file),
    };
  }
}

/** The recipient's page: a real PeerRecords per file, saying `pull`, `pull-ack`, `pull-stop` over its link. */
class Recipient {
  readonly records = new Map<number, PeerRecords>();
  readonly sources: RecordSource[] = [];
  readonly closed: FerryError[] = [];
  readonly context: SharePullContext;
  constructor(readonly link: MemoryChannel) {
    this.context = {
      from: 'The sender',
      close: (error) => this.closed.push(error),
      records: (file) => this.records.get(file),
    };
  }
  pull(file: number, layout: RecordLayout, server: Uint8Array<ArrayBuffer>): PeerRecords {
    const records = new PeerRecords({
      layout,
      from: 0,
      channel: {
        pull: (from) => this.link.sendControl({ type: 'pull', file, from, ticket: TICKET }),
        ack: (next) => this.link.sendControl({ type: 'pull-ack', file, next }),
        stop: () => this.link.sendControl({ type: 'pull-stop', file }),
      },
      fromServer: async () => new Blob([server]).stream(),
      onSource: (source) => this.sources.push(source),
    });
    this.records.set(file, records);
    return records;
  }
}

/** A sender's tab and a recipient over in-memory links, each message handed to the other side's table. */
function link(layouts: ReadonlyMap<number, RecordLayout> = new Map([[0, BIG]])) {
  const hostLink = new MemoryChannel(false);
  const recipientLink = new MemoryChannel(true);
  const host = new Host(hostLink, layouts);
  const recipient = new Recipient(recipientLink);
  recipientLink.deliverControl = (message) => dispatchShareControl(SHARE_HOST_HANDLERS, host.context, message);
  hostLink.deliverControl = (message) => dispatchShareControl(SHARE_PULL_HANDLERS, recipient.context, message);
  return { host, recipient, hostLink, recipientLink };
}

const TYPES = controlMessageSchema.options.map((option) => option.shape.type.value).sort();

/** One valid message of each type neither side reads. */
const DEVICE_MESSAGES: ControlMessage[] = [
  { type: 'auth', mac: 'M'.repeat(43) },
  { type: 'offer', transfer: 'A'.repeat(22), secret: 'S'.repeat(22), manifest: 'sealed' },
  { type: 'answer', transfer: 'A'.repeat(22), accept: true },
  { type: 'cancel', transfer: 'A'.repeat(22), code: 'ABORTED', message: 'Stopped.' },
  { type: 'pair-saved' },
  { type: 'text', text: 'hello' },
];
const pullOf = (file: number): ControlMessageOf<'pull'> => ({ type: 'pull', file, from: 0, ticket: TICKET });

describe('SHARE_HOST_HANDLERS and SHARE_PULL_HANDLERS', () => {
  it('have one handler for every control message type of frames.ts, and no other', () => {
    expect(TYPES).toHaveLength(17);
    for (const table of [SHARE_HOST_HANDLERS, SHARE_PULL_HANDLERS]) {
      expect(Object.keys(table).sort()).toEqual(TYPES);
      for (const type of TYPES) expect(typeof table[type]).toBe('function');
    }
  });

  it('the sender’s tab reads pull, pull-ack and pull-stop; the recipient reads pull-refused; each refuses the rest', () => {
    const read = (table: Record<string, unknown>) => TYPES.filter((type) => table[type] !== notOnShareLinks);
    expect(read(SHARE_HOST_HANDLERS)).toEqual(['pull', 'pull-ack', 'pull-stop']);
    expect(read(SHARE_PULL_HANDLERS)).toEqual(['pull-refused']);
  });

  it('a table missing a type does not compile', () => {
    const { 'pull-stop': _, ...rest } = SHARE_HOST_HANDLERS;
    // @ts-expect-error `pull-stop` has no handler: the check (tsc) fails if this compiles.
    const partial: ShareHandlers<ShareHostContext> = rest;
    expect(Object.keys(partial)).not.toContain('pull-stop');
  });
});

describe('dispatchShareControl', () => {
  it('a pull starts a window on the sender’s side; the recipient’s acks move it', async () => {
    const { host, recipient } = link();
    const records = recipient.pull(0, BIG, new Uint8Array(0));
    await flush();
    const window = host.pulls.get(0);
    expect(window?.next).toBe(0);
    window?.sent(WINDOW_RECORDS);
    expect(window?.room).toBe(0);
    // The recipient consumes a quarter of the window: its ack gives that much room back.
    for (let i = 0; i < ACK_EVERY_RECORDS; i++) records.push(i, new Uint8Array([i]));
    const reader = records.stream.getReader();
    for (let i = 0; i < ACK_EVERY_RECORDS; i++) expect((await reader.read()).value).toEqual(new Uint8Array([i]));
    await flush();
    expect(recipient.link.controls.map((m) => m.type)).toEqual(['pull', 'pull-ack']);
    expect(window?.room).toBe(ACK_EVERY_RECORDS);
    expect(host.closed).toEqual([]);
    await reader.cancel();
  });

  it('a recipient that stops stops and forgets the sender’s window of that file only', async () => {
    const { host, recipient } = link(
      new Map([
        [0, BIG],
        [1, BIG],
      ]),
    );
    const first = recipient.pull(0, BIG, new Uint8Array(0));
    recipient.pull(1, BIG, new Uint8Array(0));
    await flush();
    const window = host.pulls.get(0);
    await first.stream.cancel();
    await flush();
    expect(window?.stopped).toBe(true);
    expect([...host.pulls.keys()]).toEqual([1]);
    expect(host.pulls.get(1)?.stopped).toBe(false);
  });

  it('a pull the sender refuses hands the recipient’s stream to the server', async () => {
    const { recipient, hostLink } = link(new Map());
    const fromServer = new Uint8Array([1, 2, 3, 4]);
    const records = recipient.pull(0, SMALL, fromServer);
    const body = new Uint8Array(await new Response(records.stream).arrayBuffer());
    expect(hostLink.controls).toEqual([
      { type: 'pull-refused', file: 0, code: 'FILE_NOT_FOUND', message: 'Not open.' },
    ]);
    expect(recipient.sources).toEqual(['peer', 'server']);
    expect(body).toEqual(fromServer);
    expect(recipient.closed).toEqual([]);
  });

  it('a pull-refused for a file not being pulled changes nothing', async () => {
    const { recipient, hostLink } = link();
    hostLink.sendControl({ type: 'pull-refused', file: 3, code: 'INVALID_RANGE', message: 'no' });
    await flush();
    expect(recipient.closed).toEqual([]);
    expect(recipient.sources).toEqual([]);
  });

  it.each<ControlMessage>([
    ...DEVICE_MESSAGES,
    { type: 'pull-refused', file: 0, code: 'FILE_NOT_FOUND', message: 'no' },
  ])('the sender’s tab closes the channel when a recipient sends $type, naming it', async (message) => {
    const { host, recipientLink } = link();
    recipientLink.sendControl(message);
    await flush();
    expect(host.closed).toHaveLength(1);
    expect(host.closed[0]).toBeInstanceOf(FerryError);
    expect(host.closed[0]?.code).toBe('INVALID_MESSAGE');
    expect(host.closed[0]?.message).toBe(`A recipient sent “${message.type}”, which a share link does not use.`);
    expect(host.pulls.size).toBe(0);
  });

  it.each<ControlMessage>([
    ...DEVICE_MESSAGES,
    pullOf(0),
    { type: 'pull-ack', file: 0, next: 1 },
    { type: 'pull-stop', file: 0 },
  ])('the recipient closes the channel when the sender sends $type, naming it', async (message) => {
    const { recipient, hostLink } = link();
    hostLink.sendControl(message);
    await flush();
    expect(recipient.closed).toHaveLength(1);
    expect(recipient.closed[0]?.code).toBe('INVALID_MESSAGE');
    expect(recipient.closed[0]?.message).toBe(`The sender sent “${message.type}”, which a share link does not use.`);
  });
});
