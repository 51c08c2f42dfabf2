/**
 * Display names for peers ("Amber Otter"): deterministic from a seed, so a peer id made from
 * random bytes always reads the same. 32 × 32 names; collisions in one room are harmless
 * because peers are addressed by id, and the device name (if sent) tells them apart.
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
