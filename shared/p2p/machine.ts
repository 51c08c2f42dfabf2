/**
 * A state machine whose transitions are a table: `table[state][event]` is the next state,
 * and a pair that is not in the table is a bug (a session firing an event its state does
 * not expect), so `fire` throws. Inputs that come from outside (the other device, the
 * network, a person's click) are checked with `can` first and ignored or refused there;
 * only the session's own logic fires without asking.
 */
import type { FerryError } from '../errors.ts';

/** How a transfer session (sender-session.ts, receiver-session.ts) ended. */
export type SessionOutcome =
  | { state: 'done' }
  | { state: 'declined' }
  | { state: 'cancelled' }
  | { state: 'failed'; error: FerryError };

/** Every state, each with the events it takes and where they lead; terminal states take none. */
export type TransitionTable<S extends string, E extends string> = Record<S, Partial<Record<E, S>>>;

export class Machine<S extends string, E extends string> {
  readonly #table: TransitionTable<S, E>;
  #state: S;
  readonly #onChange: ((state: S, event: E, from: S) => void) | undefined;

  constructor(table: TransitionTable<S, E>, initial: S, onChange?: (state: S, event: E, from: S) => void) {
    this.#table = table;
    this.#state = initial;
    this.#onChange = onChange;
  }

  get state(): S {
    return this.#state;
  }

  /** Whether the table has `event` in the current state. */
  can(event: E): boolean {
    return this.#table[this.#state][event] !== undefined;
  }

  /** Takes the table's transition; throws when the current state has none for `event`. */
  fire(event: E): S {
    const next = this.#table[this.#state][event];
    if (next === undefined) throw new Error(`no transition for "${event}" in state "${this.#state}"`);
    const from = this.#state;
    this.#state = next;
    this.#onChange?.(next, event, from);
    return next;
  }
}

/** Every (state, event) pair of a table: for tests that walk all of them. */
export function transitions<S extends string, E extends string>(
  table: TransitionTable<S, E>,
): { from: S; event: E; to: S }[] {
  return (Object.entries(table) as [S, Partial<Record<E, S>>][]).flatMap(([from, events]) =>
    (Object.entries(events) as [E, S][]).map(([event, to]) => ({ from, event, to })),
  );
}
