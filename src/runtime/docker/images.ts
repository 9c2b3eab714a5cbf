/**
 * Image pulls and builds: progress streamed line by line, failures turned into RuntimeErrors
 * that say what the Engine said (and, for builds, the last lines of output that led to it).
 */
import { RuntimeError } from '../../core/errors.js';
import type { BuildRequest, ImageInfo, ProgressListener } from '../driver.js';
import type { DockerClient } from './client.js';
import { DockerErrorCode, engineMessage, isUnreachable, unreachableError } from './errors.js';
import { errorOf, messageLines, readJsonMessages } from './json-messages.js';
import { imageOf } from './observed.js';

/** How long a pull may wait, in milliseconds. */
export interface PullTimeouts {
  /** For the Engine's first answer: it only answers once the registry has. */
  responseMs: number;
  /** Between two progress messages once the pull runs. */
  idleMs: number;
}

/** Lines of build output a BUILD_FAILED message carries. */
const FAILED_BUILD_LINES = 20;

/** The image `reference` names, or undefined when the Engine has no such image. */
export function inspectImage(client: DockerClient, reference: string): Promise<ImageInfo | undefined> {
  // 400 is "invalid reference format" (`My_Image`): text that names no image is no image, too.
  return client.callOr(`inspect image ${reference}`, [400, 404], undefined, async () =>
    imageOf(await client.docker.getImage(reference).inspect()),
  );
}

/** Pulls `reference`, failing within `timeouts` when the registry does not answer. */
export async function pullImage(
  client: DockerClient,
  reference: string,
  timeouts: PullTimeouts,
  onProgress?: ProgressListener,
): Promise<ImageInfo> {
  const timedOut = (what: string): RuntimeError =>
    pullFailed(reference, `the registry did not answer within ${what}`, undefined);

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeouts.responseMs);
  let stream: NodeJS.ReadableStream;
  try {
    stream = await client.docker.pull(reference, { abortSignal: controller.signal });
  } catch (error) {
    if (controller.signal.aborted) throw timedOut(`${timeouts.responseMs / 1000}s`);
    if (isUnreachable(error)) throw unreachableError(client.endpoint, error);
    throw pullFailed(reference, engineMessage(error), error);
  } finally {
    clearTimeout(timer);
  }

  let failure: string | undefined;
  try {
    await readJsonMessages(
      stream,
      (message) => {
        for (const line of messageLines(message)) onProgress?.(line);
        failure ??= errorOf(message);
      },
      { idleTimeoutMs: timeouts.idleMs, onIdle: () => timedOut(`${timeouts.idleMs / 1000}s of silence`) },
    );
  } catch (error) {
    throw error instanceof RuntimeError ? error : pullFailed(reference, engineMessage(error), error);
  }
  if (failure !== undefined) throw pullFailed(reference, failure, undefined);

  const image = await inspectImage(client, reference);
  if (!image) throw pullFailed(reference, 'the pull ended but the Engine has no such image', undefined);
  return image;
}

/** Builds `request`; a failed build's error carries the last lines of its output. */
export async function buildImage(
  client: DockerClient,
  request: BuildRequest,
  onProgress?: ProgressListener,
): Promise<ImageInfo> {
  // Loaded on demand: the tar machinery is only needed for builds, and start-up time matters.
  const { createBuildContext } = await import('./build-context.js');
  const context = await createBuildContext(request);
  const tail: string[] = [];
  const record = (line: string): void => {
    tail.push(line);
    if (tail.length > FAILED_BUILD_LINES) tail.shift();
    onProgress?.(line);
  };

  let imageId: string | undefined;
  let failure: string | undefined;
  try {
    const stream = await client.docker.buildImage(context.tar, {
      dockerfile: context.dockerfile,
      buildargs: request.args,
      labels: request.labels,
      ...(request.target !== undefined && { target: request.target }),
      // The Engine takes `t` once per tag and docker-modem repeats array values; @types says string.
      t: request.tags as unknown as string,
      rm: true,
      forcerm: true,
    });
    await readJsonMessages(stream, (message) => {
      for (const line of messageLines(message)) record(line);
      if (message.aux?.ID) imageId = message.aux.ID;
      failure ??= errorOf(message);
    });
  } catch (error) {
    if (isUnreachable(error)) throw unreachableError(client.endpoint, error);
    if (error instanceof RuntimeError) throw error;
    failure = engineMessage(error);
  }
  if (failure !== undefined) {
    const output = tail.length > 0 ? `\n${tail.map((line) => `  ${line}`).join('\n')}` : '';
    throw new RuntimeError(DockerErrorCode.buildFailed, `Build of ${request.context} failed: ${failure}${output}`, {
      hint: 'Fix the failing step shown above in the Dockerfile, then build again.',
    });
  }

  // The classic builder reports the id as aux.ID on recent engines; older ones only print it.
  imageId ??= /^Successfully built ([0-9a-f]+)$/.exec(tail.findLast((line) => line.startsWith('Successfully built')) ?? '')?.[1];
  const image = imageId === undefined ? undefined : await inspectImage(client, imageId);
  if (!image) {
    throw new RuntimeError(DockerErrorCode.buildFailed, `Build of ${request.context} ended without reporting an image`, {
      hint: 'Run `docker build` on the same context to see the full output.',
    });
  }
  return image;
}

function pullFailed(reference: string, detail: string, cause: unknown): RuntimeError {
  if (/pull access denied|manifest unknown|repository does not exist|not found/i.test(detail)) {
    return new RuntimeError(DockerErrorCode.imageNotFound, `Cannot pull image ${reference}: ${detail}`, {
      hint: 'Check the image name and tag (and `docker login` for a private registry), or build the image.',
      cause,
    });
  }
  return new RuntimeError(DockerErrorCode.pullFailed, `Cannot pull image ${reference}: ${detail}`, {
    hint: 'The Docker Engine could not reach the registry: check its network and proxy settings, or make the image available locally (build it, or `docker load` it).',
    cause,
  });
}
