/**
 * Opening one of the server's SQLite files (better-sqlite3): WAL (survives a killed
 * process; NORMAL sync risks only the last commits on power loss), foreign keys on, a
 * 5 s busy wait, and the file's schema brought up to date. `migrations[v]` takes a file
 * from version v to v + 1, each in one transaction; PRAGMA user_version records how far a
 * file got, so every store's schema moves on its own.
 */
import Database from 'better-sqlite3';

export function openDatabase(file: string, migrations: readonly string[]): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return db;
}
