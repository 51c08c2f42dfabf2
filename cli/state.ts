/**
 * What `ferry` keeps between runs, under $XDG_STATE_HOME/ferry (else ~/.local/state/ferry),
 * files readable by the user only (they hold the link's secret and the share's tokens):
 *
 *   sends/<key>.json   a send not finished yet; <key> is the SHA-256 of the command's
 *                      inputs (server, each file's path, size and mtime, the settings), so
 *                      the same command again finds it and resumes
 *   sent/<id>.json     a finished send (for revoke and status)
 *   requests/<id>.json a request link this machine made: its private key (the only copy),
 *                      owner token, and the uploads already fetched into a folder
 *   spool/             stdin being sent
 *   device.json, pairings.json   direct transfers (cli/direct/device-store.ts)
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { sha256Hex } from '../shared/encoding.ts';
import type { PlanFile } from '../shared/share-plan.ts';
import { z } from '../shared/zod.ts';

export function stateDir(): string {
  const xdg = process.env.XDG_STATE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(homedir(), '.local', 'state'), 'ferry');
}

const planFileSchema = z.object({
  name: z.string(),
  size: z.number(),
  type: z.string(),
  lastModified: z.number(),
  nonce: z.string(),
  recordSize: z.number(),
  key: z.string().optional(),
  blake3: z.string().nullable(),
});

const sendStateSchema = z.object({
  server: z.string(),
  id: z.string(),
  ownerToken: z.string(),
  uploadToken: z.string(),
  /** base64url link secret (the keys are derived from it again). */
  secret: z.string(),
  /** base64url: what goes after # in the link. */
  linkKey: z.string(),
  expiresAt: z.number(),
  files: z.array(planFileSchema),
});
export type SendState = z.output<typeof sendStateSchema> & { files: PlanFile[] };

/** The key of a send: the same inputs give the same key. */
export function sendKey(inputs: unknown): Promise<string> {
  return sha256Hex(new TextEncoder().encode(JSON.stringify(inputs)));
}

/** Writes `value` as JSON readable by the user only, whole or not at all (rename). */
export async function writePrivate(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(value, null, 2), { mode: 0o600 });
  await rename(temp, file);
}

/** The JSON in `file` if it parses with `schema`, else null (missing or damaged). */
export async function readJson<S extends z.ZodType>(schema: S, file: string): Promise<z.output<S> | null> {
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : null;
}

const readState = (file: string): Promise<SendState | null> => readJson(sendStateSchema, file);

export const pendingSend = {
  file: (key: string) => path.join(stateDir(), 'sends', `${key}.json`),
  load: (key: string) => readState(pendingSend.file(key)),
  save: (key: string, state: SendState) => writePrivate(pendingSend.file(key), state),
  drop: (key: string) => rm(pendingSend.file(key), { force: true }),
};

export const finishedSend = {
  file: (id: string) => path.join(stateDir(), 'sent', `${id}.json`),
  load: (id: string) => readState(finishedSend.file(id)),
  save: (state: SendState) => writePrivate(finishedSend.file(state.id), state),
};

const requestStateSchema = z.object({
  server: z.string(),
  id: z.string(),
  ownerToken: z.string(),
  /** base64url PKCS #8 of the requester's ECDH private key (shared/request-keys.ts). */
  privateKey: z.string(),
  /** base64url public key: the link's fragment. */
  publicKey: z.string(),
  link: z.string(),
  expiresAt: z.number(),
  maxBytes: z.number(),
  maxFiles: z.number(),
  /** Share ids of uploads already fetched whole (`ferry inbox` skips them). */
  fetched: z.array(z.string()),
});
export type RequestState = z.output<typeof requestStateSchema>;

export const ownedRequest = {
  dir: () => path.join(stateDir(), 'requests'),
  file: (id: string) => path.join(ownedRequest.dir(), `${id}.json`),
  load: (id: string) => readJson(requestStateSchema, ownedRequest.file(id)),
  save: (state: RequestState) => writePrivate(ownedRequest.file(state.id), state),
};
