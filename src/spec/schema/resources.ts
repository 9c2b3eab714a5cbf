/** Top-level `volumes:`, `secrets:` and `configs:` declarations. */
import * as z from 'zod';
import { bool, keyValues, str, strictObject, stringMap } from './common.js';

const external = z.union([bool, strictObject({ name: str.optional() })], { error: 'true or false' });

/** A top-level volume. */
export const volumeDeclaration = strictObject(
  {
    name: str.optional(),
    driver: str.optional(),
    driver_opts: stringMap.optional(),
    external: external.optional(),
    labels: keyValues.optional(),
  },
  { extensions: true },
);

const fileSource = {
  name: str.optional(),
  file: str.optional(),
  environment: str.optional(),
  external: external.optional(),
  labels: keyValues.optional(),
};
const FILE_SOURCE_IGNORED = ['driver', 'driver_opts', 'template_driver'];

/** A top-level secret. */
export const secretDeclaration = strictObject(fileSource, { ignored: FILE_SOURCE_IGNORED, extensions: true });
/** A top-level config (a secret that may also hold inline content). */
export const configDeclaration = strictObject({ ...fileSource, content: str.optional() }, { ignored: FILE_SOURCE_IGNORED, extensions: true });

/** A top-level volume as written. */
export type RawVolumeDeclaration = z.output<typeof volumeDeclaration>;
/** A top-level secret as written. */
export type RawSecretDeclaration = z.output<typeof secretDeclaration>;
/** A top-level config as written. */
export type RawConfigDeclaration = z.output<typeof configDeclaration>;
