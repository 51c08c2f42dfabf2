/**
 * Short texts between devices over a verified data channel: the texts received (until
 * dismissed) and, per device, what became of the last one sent. A text is sent only once
 * the link is confirmed (the people compared the code, or a paired device's MAC
 * verified); texts are never left on the server for a device that is away.
 */
import { FerryError } from '../../../shared/errors.ts';
import type { ControlMessage } from '../../../shared/p2p/frames.ts';

export interface ReceivedText {
  id: number;
  from: string;
  text: string;
}

/** What sending a text needs of a connection (connection.svelte.ts). */
export interface TextConnection {
  readonly opened: Promise<void>;
  readonly confirmed: Promise<void>;
  /** `compare`: the people compare a code on this connection (no pairing vouches for it). */
  readonly plan: { readonly compare: boolean };
  readonly link: { sendControl(message: ControlMessage): void };
}

export class Texts {
  readonly #connect: (peerId: string) => TextConnection | null;
  #received = $state<ReceivedText[]>([]);
  #notice = $state<Record<string, string>>({});
  #next = 0;

  /** `connect`: the connection to a device, made when missing (null without a server). */
  constructor(connect: (peerId: string) => TextConnection | null) {
    this.#connect = connect;
  }

  get received(): readonly ReceivedText[] {
    return this.#received;
  }

  /** What became of the last text sent to a device. */
  notice(peerId: string): string | undefined {
    return this.#notice[peerId];
  }

  /** Sends a short text once the link is confirmed; the notice says each step and the outcome. */
  async send(peerId: string, text: string): Promise<void> {
    const connection = this.#connect(peerId);
    if (!connection) return;
    this.#say(peerId, 'Connecting…');
    try {
      await connection.opened;
      // A paired device proves itself by MAC: there is no code for the people to check.
      this.#say(peerId, connection.plan.compare ? 'Check the code, then confirm.' : 'Checking the paired device…');
      await connection.confirmed;
      connection.link.sendControl({ type: 'text', text });
      this.#say(peerId, 'Text sent.');
    } catch (error) {
      this.#say(peerId, error instanceof FerryError ? error.message : 'The text could not be sent.');
    }
  }

  /** A text arrived from the device named `from`. */
  arrived(from: string, text: string): void {
    this.#received = [...this.#received, { id: this.#next++, from, text }];
  }

  dismiss(id: number): void {
    this.#received = this.#received.filter((t) => t.id !== id);
  }

  #say(peerId: string, notice: string): void {
    this.#notice = { ...this.#notice, [peerId]: notice };
  }
}
