/** Networks: how a service joins them, and the top-level declarations. */
import * as z from 'zod';
import { bool, int, keyValues, str, strictObject, stringMap, strList } from './common.js';

/** How a service joins one network (long form). */
export const serviceNetworkObject = strictObject(
  {
    aliases: strList.optional(),
    ipv4_address: str.optional(),
    ipv6_address: str.optional(),
    priority: int.optional(),
  },
  { ignored: ['link_local_ips', 'mac_address', 'driver_opts', 'gw_priority', 'interface_name'] },
);

/** A service's `networks:`: names, or a mapping of network to options. */
export const serviceNetworksSchema = z.union([z.array(str), z.record(z.string(), serviceNetworkObject.nullable())], {
  error: 'a list of network names or a mapping of networks',
});

const ipamPool = strictObject({
  subnet: str.optional(),
  gateway: str.optional(),
  ip_range: str.optional(),
  aux_addresses: stringMap.optional(),
});

/** A top-level network declaration. */
export const networkObject = strictObject(
  {
    name: str.optional(),
    driver: str.optional(),
    driver_opts: stringMap.optional(),
    external: z.union([bool, strictObject({ name: str.optional() })], { error: 'true or false' }).optional(),
    internal: bool.optional(),
    attachable: bool.optional(),
    enable_ipv6: bool.optional(),
    enable_ipv4: bool.optional(),
    ipam: strictObject({ driver: str.optional(), config: z.array(ipamPool).optional(), options: stringMap.optional() }).optional(),
    labels: keyValues.optional(),
  },
  { extensions: true },
);

/** A service's networks as written. */
export type RawServiceNetworks = z.output<typeof serviceNetworksSchema>;
/** A top-level network as written. */
export type RawNetwork = z.output<typeof networkObject>;
