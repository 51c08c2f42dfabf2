/** The Postgres ShareStore against the ShareStore conformance suite, on a new database each time. */
import { postgresDatabases } from '../test-engines/databases.ts';
import { openPostgresShareStore } from './postgres-store.ts';
import { shareStoreConformance } from './store.conformance.ts';

const newDatabase = postgresDatabases();

shareStoreConformance('postgres', async () => openPostgresShareStore(await newDatabase()));
