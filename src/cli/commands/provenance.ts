import { ExitCode, FlotillaError } from '../../core/errors.js';
import { loadStackFor, type GlobalOptions } from '../context.js';

/** `flotilla provenance IMAGE`: the in-toto statement recorded when this project built the image. */
export async function run(reference: string, options: { output: 'pretty' | 'json' }, global: GlobalOptions): Promise<number> {
  const [stack, driver, provenance] = await Promise.all([
    loadStackFor(global),
    import('../../runtime/docker/index.js').then(({ createDockerDriver }) => createDockerDriver({ env: process.env })),
    import('../../provenance/index.js'),
  ]);
  const image = await driver.inspectImage(reference);
  const store = provenance.openStateStoreIfExists(provenance.stateDirectory(stack));
  let statement;
  try {
    // An image removed from the engine keeps its record: a full id still finds it.
    const ids = image ? [image.id] : [reference, `sha256:${reference}`];
    statement = ids.map((id) => store?.buildByImageId(id)).find((record) => record !== undefined)?.statement;
  } finally {
    store?.close();
  }
  if (!statement) {
    const where = `this project's state store (${stack.name})`;
    throw image
      ? new FlotillaError('PROVENANCE_NOT_FOUND', `No provenance record for image ${reference} (${image.id.slice(0, 19)}) in ${where}: the image exists on this engine, but was probably built elsewhere or not by Flotilla.`, {
          hint: `\`flotilla trace ${reference}\` shows what the image's own labels say about where it came from.`,
        })
      : new FlotillaError('PROVENANCE_NOT_FOUND', `No image ${reference} on this engine, and no provenance record for it in ${where}.`, {
          hint: 'Check the reference with `docker images`; `flotilla trace` also finds an image from a container or a service.',
        });
  }
  process.stdout.write(`${options.output === 'json' ? JSON.stringify(statement) : JSON.stringify(statement, null, 2)}\n`);
  return ExitCode.ok;
}
