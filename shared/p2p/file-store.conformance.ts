/**
 * What every FileStore (verifying-sink.ts) must do under the engine: the cases a
 * SenderSession → ReceiverSession → VerifyingSink transfer relies on, run over a store and
 * read back through the store's own means. Plain async functions, no test runner, so the
 * same suite runs in Node for the memory store and the command's PartFileStore (vitest) and
 * in Chromium's dedicated worker for the app's OPFS store (e2e/opfs-store.spec.ts, bundled
 * by esbuild as the record vectors are). Each case throws an Error saying what differed.
 */
import { FerryError } from '../errors.ts';
import { sealManifest } from '../manifest.ts';
import type { ControlMessage } from './frames.ts';
import { decodeFrame } from './frames.ts';
import { type ReceiverOutcome, ReceiverSession } from './receiver-session.ts';
import { channelPair, offerOf } from './receiver-test-kit.ts';
import { SenderSession } from './sender-session.ts';
import { type FileStore, VerifyingSink } from './verifying-sink.ts';

/** A store under test, fresh for each case, with a way to see what it kept. */
export interface StoreSubject {
  store: FileStore;
  /** The bytes of file `file` as kept (finished), or null when it is not there. */
  read(file: number): Promise<Uint8Array | null>;
  /** How many entries the store holds, finished or not (a part file counts). */
  count(): Promise<number>;
}

export interface StoreCase {
  name: string;
  run(subject: () => Promise<StoreSubject>): Promise<void>;
}

const KiB = 1024;
/** Records of 1 KiB keep the cases small and still cross several frames and batches. */
const R = KiB;

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

function same(a: Uint8Array | null, b: Uint8Array): boolean {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

type Made = Awaited<ReturnType<typeof offerOf>>;

/** A SenderSession offering `made` to a ReceiverSession storing into `store`, joined in memory; not yet accepted. */
async function offered(made: Made, store: FileStore) {
  const sender = new SenderSession(made.plan);
  let receiver!: ReceiverSession;
  let settled!: (outcome: ReceiverOutcome) => void;
  const outcome = new Promise<ReceiverOutcome>((resolve) => (settled = resolve));
  const link = channelPair(
    () => sender,
    () => receiver,
  );
  receiver = new ReceiverSession(made.offer, link.toSender, (events) => new VerifyingSink(store, events), {
    onSettle: settled,
  });
  const sent = sender.run(link.toReceiver, Promise.resolve());
  await receiver.opened;
  /** Accepts, and answers the receiver's outcome once both sides ended and the sink was released. */
  const accept = async () => {
    receiver.accept();
    const [received] = await Promise.all([outcome, sent]);
    // The sink is released after the outcome is told: let it delete what it must.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return received;
  };
  return { sender, receiver, link, accept };
}

/** Sends `made` into `store`; `tamper` may change each frame on its way. */
async function transfer(made: Made, store: FileStore, tamper?: (frame: Uint8Array<ArrayBuffer>) => void) {
  const pair = await offered(made, store);
  if (tamper) {
    const deliver = pair.link.toReceiver.deliverFrame;
    pair.link.toReceiver.deliverFrame = (frame) => {
      tamper(frame);
      deliver(frame);
    };
  }
  return { received: await pair.accept() };
}

async function expectKept(subject: StoreSubject, made: Made, files: number[]): Promise<void> {
  for (const file of files) {
    check(same(await subject.read(file), made.plain[file]!), `file ${file} is not kept identical`);
  }
  const count = await subject.count();
  check(count === files.length, `the store holds ${count} entries, expected ${files.length}`);
}

function expectFailure(outcome: ReceiverOutcome, code: string, message?: string): void {
  const error = outcome.state === 'failed' ? outcome.error : null;
  check(error?.code === code, `expected ${code}, got ${JSON.stringify(outcome)}`);
  if (message) check(error?.message === message, `expected “${message}”, got “${error?.message}”`);
}

export const FILE_STORE_CASES: StoreCase[] = [
  {
    name: 'files of 0 bytes, one record, 5 records and 5 records + 1 byte arrive identical, nothing else kept',
    async run(subject) {
      const made = await offerOf([0, R, 5 * R, 5 * R + 1], R);
      const s = await subject();
      const { received } = await transfer(made, s.store);
      check(received.state === 'done', `the receiver ended ${JSON.stringify(received)}`);
      await expectKept(s, made, [0, 1, 2, 3]);
    },
  },
  {
    name: 'a file larger than a write batch (2 MiB) and one after it arrive identical',
    async run(subject) {
      const made = await offerOf([2 * 1024 * KiB + 3 * 64 * KiB + 5, 70 * KiB], 64 * KiB);
      const s = await subject();
      const { received } = await transfer(made, s.store);
      check(received.state === 'done', `the receiver ended ${JSON.stringify(received)}`);
      await expectKept(s, made, [0, 1]);
    },
  },
  {
    name: 'a flipped byte in record 3 of file 1: fails naming both, file 0 stays, nothing of file 1',
    async run(subject) {
      const made = await offerOf([2 * R, 8 * R], R);
      const s = await subject();
      const { received } = await transfer(made, s.store, (frame) => {
        const decoded = decodeFrame(frame);
        const sealed = decoded.ok && decoded.file === 1 ? decoded.records[3 - decoded.first] : undefined;
        if (sealed) frame[sealed.byteOffset + 2]! ^= 0x80;
      });
      expectFailure(received, 'RECORD_AUTH_FAILED', 'file-1: record 3 failed verification.');
      await expectKept(s, made, [0]);
    },
  },
  {
    name: 'a whole-file hash that differs from the manifest: FILE_HASH_MISMATCH, nothing kept',
    async run(subject) {
      const made = await offerOf([5 * R + 7], R);
      made.manifest.files[0]!.blake3 = '0'.repeat(64);
      made.plan.manifest = await sealManifest(made.manifest, made.keys.metaKey);
      made.offer.manifest = made.plan.manifest;
      const s = await subject();
      const { received } = await transfer(made, s.store);
      expectFailure(received, 'FILE_HASH_MISMATCH');
      await expectKept(s, made, []);
    },
  },
  {
    name: 'a channel dropped mid-file resumes from the first missing record into the same files, identical',
    async run(subject) {
      const made = await offerOf([100 * R, 6 * R], R);
      const s = await subject();
      const { sender, receiver, link, accept } = await offered(made, s.store);
      const gone = new FerryError('NETWORK_ERROR', 'gone');
      let frames = 0;
      const deliver = link.toReceiver.deliverFrame;
      link.toReceiver.deliverFrame = (frame) => {
        frames++;
        if (frames <= 3) deliver(frame);
        else if (frames === 4) {
          sender.channelLost(gone, link.toReceiver);
          receiver.channelLost(gone, link.toSender);
          link.cut();
        }
      };
      const accepted = accept();
      for (let waited = 0; receiver.state !== 'reconnecting'; waited += 5) {
        check(waited < 10_000, `the receiver is ${receiver.state}, not reconnecting`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const again = channelPair(
        () => sender,
        () => receiver,
      );
      again.toReceiver.deliverControl = (message: ControlMessage) => {
        if (message.type === 'resume') void receiver.resumeOn(again.toSender);
        else receiver.onControl(message);
      };
      await sender.resume(again.toReceiver);
      const received = await accepted;
      check(received.state === 'done', `the receiver ended ${JSON.stringify(received)}`);
      const resumeAt = again.toSender.controls[0];
      const first = again.toReceiver.records()[0];
      check(resumeAt?.type === 'resume-at' && resumeAt.files[0]! > 0, `resume-at was ${JSON.stringify(resumeAt)}`);
      check(
        resumeAt?.type === 'resume-at' && first?.file === 0 && first.record === resumeAt.files[0],
        'the new channel did not start at the first missing record',
      );
      await expectKept(s, made, [0, 1]);
    },
  },
  {
    name: 'a place made again starts empty (a shorter file after a longer one under the same name)',
    async run(subject) {
      const long = await offerOf([9 * R], R);
      const s = await subject();
      const first = await s.store.create(0, { ...long.plan.ciphers[0]!, name: 'again' });
      await first.write(long.plain[0]!, 0);
      await first.finish();
      const short = await offerOf([2 * R + 1], R);
      const { received } = await transfer(short, s.store);
      check(received.state === 'done', `the receiver ended ${JSON.stringify(received)}`);
      await expectKept(s, short, [0]);
    },
  },
];

/** A store that is out of space, for the case every store must also pass. */
export const FULL_STORE_CASE: StoreCase = {
  name: 'storage that is full fails with STORAGE_FULL and keeps nothing',
  async run(subject) {
    const made = await offerOf([3 * 1024 * KiB], 64 * KiB);
    const s = await subject();
    const { received } = await transfer(made, s.store);
    expectFailure(received, 'STORAGE_FULL');
    await expectKept(s, made, []);
  },
};

/** Runs `cases` over fresh subjects; answers one line per failed case (none: all passed). */
export async function runStoreCases(cases: StoreCase[], subject: () => Promise<StoreSubject>): Promise<string[]> {
  const failures: string[] = [];
  for (const c of cases) {
    try {
      await c.run(subject);
    } catch (error) {
      failures.push(`${c.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return failures;
}
