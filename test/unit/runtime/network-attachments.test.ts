/** A container's networks, read from an inspect answer so a network cut can put them back as they were. */
import { describe, expect, it } from 'vitest';
import { attachmentsFromInspect } from '../../../src/runtime/docker/observed.js';

describe('network attachments', () => {
  it('keep aliases and static addresses, leave out the short id the Engine adds itself, sorted by network', () => {
    const id = '0123456789abcdef'.repeat(4);
    const info = {
      Id: id,
      NetworkSettings: {
        Networks: {
          shop_default: { Aliases: ['api', id.slice(0, 12)], IPAMConfig: null },
          shop_back: { Aliases: ['api', 'api.internal'], IPAMConfig: { IPv4Address: '10.5.0.7', IPv6Address: '' } },
          bridge: { Aliases: null },
        },
      },
    } as unknown as Parameters<typeof attachmentsFromInspect>[0];
    expect(attachmentsFromInspect(info)).toEqual([
      { network: 'bridge', aliases: [] },
      { network: 'shop_back', aliases: ['api', 'api.internal'], ipv4Address: '10.5.0.7' },
      { network: 'shop_default', aliases: ['api'] },
    ]);
  });
});
