/** Where tus creates uploads; a created upload lives at `<endpoint><upload id>`. */
export const TUS_ENDPOINT = '/files/';

/** tus ciphertext chunk: a PATCH of 8 MiB keeps memory flat and a retry cheap. */
export const CHUNK_SIZE = 8 * 1024 * 1024;
