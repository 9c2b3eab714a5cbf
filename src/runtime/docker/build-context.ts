/**
 * The build context sent to the Engine: a tar stream of exactly the entries the caller listed
 * (build/ lists them honouring .dockerignore, and hashes the same list), plus a Dockerfile from
 * outside the context under its generated name. No walking here: what is sent is what was hashed.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { Readable } from 'node:stream';
import { pack } from 'tar-fs';
import { RuntimeError } from '../../core/errors.js';
import type { BuildRequest } from '../driver.js';
import { DockerErrorCode } from './errors.js';

/** A context ready to send: the tar stream and the Dockerfile's name inside it. */
export interface BuildContext {
  tar: Readable;
  dockerfile: string;
  /** Every path in the tar, relative and `/`-separated, in order (for tests and debugging). */
  entries: string[];
}

/** Packs the request's entries of its (absolute) context directory. */
export async function createBuildContext(request: Pick<BuildRequest, 'context' | 'entries' | 'dockerfile' | 'dockerfileOutside'>): Promise<BuildContext> {
  const { context, entries, dockerfile, dockerfileOutside } = request;
  if (!isAbsolute(context)) {
    throw new RuntimeError(DockerErrorCode.buildFailed, `The build context "${context}" is not a local directory`, {
      hint: 'The docker driver builds from local directories only; clone remote contexts first.',
    });
  }
  const outside = dockerfileOutside?.name === dockerfile ? dockerfileOutside : undefined;
  if (!outside && !entries.includes(dockerfile)) {
    // A caller bug, caught here rather than as the Engine's "Cannot locate specified Dockerfile".
    throw new RuntimeError(DockerErrorCode.buildFailed, `The Dockerfile ${dockerfile} is not among the ${entries.length} entries to send from ${context}`, {
      hint: 'List the build context with listContext() and pass its entries, dockerfile and dockerfileOutside unchanged.',
    });
  }
  const outsideContent = outside
    ? await readFile(outside.path).catch((cause: unknown) => {
        throw new RuntimeError(DockerErrorCode.buildFailed, `Cannot read the Dockerfile ${outside.path}`, {
          hint: 'Check `build.context` and `build.dockerfile` in the Compose file.',
          cause,
        });
      })
    : undefined;

  const archive = pack(context, {
    entries,
    // `entries` already lists every path to send; stop tar-fs from adding directories' children.
    ignore: () => true,
    // Owners on the build machine mean nothing in the image; the docker CLI sends 0:0 as well.
    map: (header) => ({ ...header, uid: 0, gid: 0 }),
    finalize: !outside,
    finish: (packer) => {
      if (!outside || !outsideContent) return;
      packer.entry({ name: outside.name, mode: 0o644, size: outsideContent.length }, outsideContent);
      packer.finalize();
    },
  });
  // tar-stream's pack is a streamx stream; a Node Readable is what the HTTP client pipes.
  const tar = Readable.from(archive, { objectMode: false });
  return { tar, dockerfile, entries: outside ? [...entries, outside.name] : [...entries] };
}
