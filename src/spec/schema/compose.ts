/** The top level of a Compose model (services are validated one by one, see load-stack). */
import * as z from 'zod';
import { str, strictObject } from './common.js';
import { stackFlotillaSchema } from './flotilla.js';
import { networkObject } from './networks.js';
import { configDeclaration, secretDeclaration, volumeDeclaration } from './resources.js';

/** The top-level keys of a model (after include is applied). */
export const composeSchema = strictObject(
  {
    version: str.optional(),
    name: str.optional(),
    services: z.record(z.string(), z.unknown()).nullable().optional(),
    networks: z.record(z.string(), networkObject.nullable()).nullable().optional(),
    volumes: z.record(z.string(), volumeDeclaration.nullable()).nullable().optional(),
    secrets: z.record(z.string(), secretDeclaration).nullable().optional(),
    configs: z.record(z.string(), configDeclaration).nullable().optional(),
    'x-flotilla': stackFlotillaSchema.optional(),
  },
  { extensions: true },
);

/** The top level as written. */
export type RawCompose = z.output<typeof composeSchema>;
