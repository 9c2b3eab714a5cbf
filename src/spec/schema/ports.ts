/** `ports:` and `expose:`. Short forms are checked by resolve/port-syntax.ts, which explains what is wrong in them. */
import * as z from 'zod';
import { int, str, strictObject } from './common.js';

/** A port in the long syntax. */
export const portObject = strictObject({
  target: int,
  published: z.union([z.string(), z.number()], { error: 'a port number or range' }).optional(),
  host_ip: str.optional(),
  protocol: z.enum(['tcp', 'udp', 'sctp']).optional(),
  mode: z.enum(['ingress', 'host']).optional(),
  name: str.optional(),
  app_protocol: str.optional(),
});

/** A service's `ports:` list. */
export const portsSchema = z.array(
  z.union([z.number(), z.string(), portObject], { error: 'a port ("8080:80", 80) or a mapping with target' }),
);

/** A service's `expose:` list. */
export const exposeSchema = z.array(z.union([z.number(), z.string()], { error: 'a port number or range' }));

/** One port as written. */
export type RawPort = z.output<typeof portsSchema>[number];
