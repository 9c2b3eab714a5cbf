/**
 * The build context's digest: one sha256 over every entry sent (path, type, executable bit,
 * content hash, link target), in sorted order. Modification times and owners are left out on
 * purpose: a fresh clone of the same commit must give the same digest.
 *
 * Files are read with synchronous calls in time slices of 8 ms, yielding to the event loop
 * between slices. Measured on the 2-core bench machine (bench/README.md, build-hash), this beat
 * 16 concurrent async reads by 1.4–2.7x (each async call is a thread-pool round trip, and the
 * hashing runs on the main thread either way), and two worker threads gained under 10% on 20,000
 * small files and lost on the 100 MiB context, while costing 20–30 ms to start: not worth it.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, lstatSync, openSync, readlinkSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { FlotillaError } from '../core/errors.js';
import { BuildErrorCode, comparePaths } from './context-files.js';

/** The reusable read buffer; larger files are hashed through it chunk by chunk. */
const CHUNK_BYTES = 512 * 1024;
/** Longest stretch of synchronous work before the event loop gets a turn. */
const SLICE_MS = 8;
/** Numeric flags skip parsing `'r'` on every open; O_NOFOLLOW: a file swapped for a link since lstat is not followed out of the context. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

/** Hex sha256 of the entries of `contextDir` (as listed by listContext), plus an outside Dockerfile. */
export async function hashContext(
  contextDir: string,
  entries: readonly string[],
  dockerfileOutside?: { name: string; path: string },
): Promise<string> {
  const items = entries.map((name) => ({ name, path: join(contextDir, name), outside: false }));
  if (dockerfileOutside) items.push({ name: dockerfileOutside.name, path: dockerfileOutside.path, outside: true });
  items.sort((a, b) => comparePaths(a.name, b.name));

  const digest = createHash('sha256');
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  const slice = { ends: performance.now() + SLICE_MS };
  for (const item of items) {
    if (performance.now() >= slice.ends) await nextTurn(slice);
    let record: string | Promise<string>;
    try {
      record = entryRecord(item.name, item.path, item.outside, buffer, slice);
    } catch (cause) {
      throw unreadable(item.path, cause);
    }
    // Awaiting only what is a promise: the common path makes no promise per entry.
    if (typeof record !== 'string') record = await record.catch((cause: unknown) => Promise.reject(unreadable(item.path, cause)));
    // NUL cannot occur in a path or a link target, so the concatenation is unambiguous.
    digest.update(record);
  }
  return digest.digest('hex');
}

/**
 * `path\0f\0x|-\0<sha256>\0`, `path\0d\0`, `path\0l\0<target>\0` or `path\0o\0` (socket, fifo…).
 * Synchronous for all but files larger than one chunk: a promise per entry costs as much as the read.
 */
function entryRecord(name: string, path: string, outside: boolean, buffer: Buffer, slice: { ends: number }): string | Promise<string> {
  const stats = lstatSync(path);
  if (stats.isDirectory()) return `${name}\0d\0`;
  if (stats.isSymbolicLink()) return `${name}\0l\0${readlinkSync(path)}\0`;
  if (!stats.isFile()) return `${name}\0o\0`;
  // The outside Dockerfile is sent with mode 0644, whatever its mode on disk.
  const prefix = `${name}\0f\0${!outside && (stats.mode & 0o100) !== 0 ? 'x' : '-'}\0`;
  if (stats.size <= buffer.length) return `${prefix}${smallFileDigest(path, stats.size, buffer)}\0`;
  return largeFileDigest(path, stats.size, buffer, slice).then((hex) => `${prefix}${hex}\0`);
}

/** Hex sha256 of a file that fits the buffer: its first `size` bytes, as tar would send them. */
function smallFileDigest(path: string, size: number, buffer: Buffer): string {
  const hash = createHash('sha256');
  if (size === 0) return hash.digest('hex');
  const fd = openSync(path, OPEN_FLAGS);
  try {
    // Reading exactly the size lstat gave saves the extra read that finds EOF on every small file.
    let read = 0;
    while (read < size) {
      const bytesRead = readSync(fd, buffer, read, size - read, null);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return hash.update(buffer.subarray(0, read)).digest('hex');
  } finally {
    closeSync(fd);
  }
}

/** Hex sha256 of a file's first `size` bytes, chunk by chunk, giving the event loop its turns. */
async function largeFileDigest(path: string, size: number, buffer: Buffer, slice: { ends: number }): Promise<string> {
  const hash = createHash('sha256');
  const fd = openSync(path, OPEN_FLAGS);
  try {
    let remaining = size;
    while (remaining > 0) {
      const bytesRead = readSync(fd, buffer, 0, Math.min(buffer.length, remaining), null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      remaining -= bytesRead;
      if (performance.now() >= slice.ends) await nextTurn(slice);
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** A file system error, naming the path. */
function unreadable(path: string, cause: unknown): FlotillaError {
  const code = (cause as NodeJS.ErrnoException).code ?? 'error';
  return new FlotillaError(BuildErrorCode.contextUnreadable, `Cannot read ${path} in the build context (${code})`, {
    hint: code === 'ENOENT' ? 'A file changed while the context was hashed: build again.' : 'Make the build context readable by the user running Flotilla.',
    cause,
  });
}

/** Lets timers and I/O callbacks run, then starts a new slice. */
async function nextTurn(slice: { ends: number }): Promise<void> {
  await new Promise((resume) => setImmediate(resume));
  slice.ends = performance.now() + SLICE_MS;
}
