/**
 * Names for devices ("Amber Otter"), deterministic from a seed. A page picks one for its
 * device on first use and keeps it (client/lib/p2p/p2p-db.ts; the person may rename it); the
 * server names a connection with one from its peer id only until that connection's `hello`
 * says the device's own name (`peerName`). 32 × 32 names; collisions in one room are
 * harmless because peers are addressed by id.
 */
const ADJECTIVES = [
  'Amber',
  'Azure',
  'Brave',
  'Bright',
  'Calm',
  'Clever',
  'Coral',
  'Crimson',
  'Dapper',
  'Eager',
  'Gentle',
  'Golden',
  'Happy',
  'Indigo',
  'Jolly',
  'Kind',
  'Lively',
  'Lucky',
  'Merry',
  'Mint',
  'Nimble',
  'Olive',
  'Plucky',
  'Quiet',
  'Rapid',
  'Rosy',
  'Silver',
  'Sunny',
  'Swift',
  'Teal',
  'Violet',
  'Witty',
] as const;

const ANIMALS = [
  'Badger',
  'Beaver',
  'Bison',
  'Crane',
  'Dolphin',
  'Falcon',
  'Ferret',
  'Finch',
  'Fox',
  'Gecko',
  'Heron',
  'Ibex',
  'Koala',
  'Lark',
  'Lemur',
  'Lynx',
  'Marten',
  'Moose',
  'Newt',
  'Ocelot',
  'Otter',
  'Owl',
  'Panda',
  'Puffin',
  'Quail',
  'Raven',
  'Seal',
  'Stoat',
  'Swan',
  'Tapir',
  'Walrus',
  'Wren',
] as const;

/** "Adjective Animal" from the low bits of `seed` (an unsigned 32-bit integer). */
export function displayName(seed: number): string {
  const n = seed >>> 0;
  const adjective = ADJECTIVES[n % ADJECTIVES.length]!;
  const animal = ANIMALS[Math.floor(n / ADJECTIVES.length) % ANIMALS.length]!;
  return `${adjective} ${animal}`;
}

/** A fresh random name, for a device that has none yet. */
export function randomDisplayName(): string {
  return displayName(crypto.getRandomValues(new Uint32Array(1))[0] ?? 0);
}

/**
 * The name others see for a connection: the one its device keeps and said in `hello`, or
 * until then (or from a page that says none) the one the server generated for it.
 */
export function peerName(deviceName: string | null, generated: string): string {
  return deviceName ?? generated;
}
