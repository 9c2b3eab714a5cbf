/**
 * Secrets and configs with inline content reach the container as a tar uploaded between create
 * and start: the content never touches the host's disk and never appears in a label or the
 * create body (which `docker inspect` would show).
 */
import { extract, pack } from 'tar-stream';
import type { ContainerFile } from '../driver.js';

/** The content of the first regular file in a tar stream (what the Engine's archive API returns for a file path). */
export async function firstFile(archive: NodeJS.ReadableStream): Promise<Buffer | undefined> {
  const reader = extract();
  archive.pipe(reader);
  let found: Buffer | undefined;
  // Read to the end, not just to the file: an HTTP response left half-read keeps its socket, and
  // the process, alive until the Engine's idle timeout.
  for await (const entry of reader) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    if (entry.header.type === 'file') found ??= Buffer.concat(chunks);
  }
  return found;
}

/** A file copied into the container (the `content` form of ContainerFile). */
export type ContentFile = Extract<ContainerFile, { content: Buffer }>;

/** An in-memory tar of `files`, paths relative to `/`, with each file's mode and owner. */
export async function contentArchive(files: readonly ContentFile[]): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of archive) chunks.push(chunk as Buffer);
  })();
  for (const file of files) {
    // No directory entries: the Engine creates missing parents itself, and a directory entry
    // for an existing path (/run) would rewrite that directory's mode.
    archive.entry(
      { name: file.target.replace(/^\/+/, ''), type: 'file', mode: file.mode, uid: file.uid, gid: file.gid, size: file.content.length },
      file.content,
    );
  }
  archive.finalize();
  await done;
  return Buffer.concat(chunks);
}
