/** Short syntaxes expanded to the long form: ports, volumes, commands, byte sizes. */
import { describe, expect, it } from 'vitest';
import { parseBytes } from '../../../src/spec/resolve/byte-size.js';
import { parseExpose, parsePort } from '../../../src/spec/resolve/port-syntax.js';
import { shellWords } from '../../../src/spec/resolve/shell-words.js';
import { parseVolume } from '../../../src/spec/resolve/volume-syntax.js';

describe('port short syntax', () => {
  it.each([
    [80, [{ target: 80, protocol: 'tcp', mode: 'ingress' }]],
    ['80', [{ target: 80, protocol: 'tcp', mode: 'ingress' }]],
    ['8080:80', [{ target: 80, published: '8080', protocol: 'tcp', mode: 'ingress' }]],
    ['127.0.0.1:8080:80/udp', [{ target: 80, published: '8080', hostIp: '127.0.0.1', protocol: 'udp', mode: 'ingress' }]],
    ['127.0.0.1::80', [{ target: 80, hostIp: '127.0.0.1', protocol: 'tcp', mode: 'ingress' }]],
    ['[::1]:80:80', [{ target: 80, published: '80', hostIp: '::1', protocol: 'tcp', mode: 'ingress' }]],
    ['9090-9091:8080-8081', [{ target: 8080, published: '9090', protocol: 'tcp', mode: 'ingress' }, { target: 8081, published: '9091', protocol: 'tcp', mode: 'ingress' }]],
    ['8000-8010:80', [{ target: 80, published: '8000-8010', protocol: 'tcp', mode: 'ingress' }]],
    ['3000-3001', [{ target: 3000, protocol: 'tcp', mode: 'ingress' }, { target: 3001, protocol: 'tcp', mode: 'ingress' }]],
    ['5060:5060/sctp', [{ target: 5060, published: '5060', protocol: 'sctp', mode: 'ingress' }]],
  ] as const)('%s', (input, expected) => {
    expect(parsePort(input)).toEqual({ value: expected });
  });

  it.each([
    [0, 'port 0 is out of range; expected 1-65535'],
    ['70000', "invalid port '70000': container port 70000 is out of range; expected 1-65535"],
    ['80:', `invalid port '80:': expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], like "8080:80" or "127.0.0.1:8080:80/udp"`],
    ['http', "invalid port 'http': container port 'http' is not a number or a range like 8000-8010"],
    ['1.2.3.4:8080:80:90', `invalid port '1.2.3.4:8080:80:90': expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], like "8080:80" or "127.0.0.1:8080:80/udp"`],
    ['[::1:80:80', `invalid port '[::1:80:80': expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], like "8080:80" or "127.0.0.1:8080:80/udp"`],
    ['8080:80-81', "invalid port '8080:80-81': 1 host port for 2 container ports; the two ranges must be the same length"],
  ] as const)('%s is rejected', (input, error) => {
    expect(parsePort(input)).toEqual({ error });
  });

  it('reads the long syntax with defaults', () => {
    expect(parsePort({ target: 80, published: 8080 })).toEqual({ value: [{ target: 80, published: '8080', protocol: 'tcp', mode: 'ingress' }] });
    expect(parsePort({ target: 53, published: '5353', host_ip: '0.0.0.0', protocol: 'udp', mode: 'host' })).toEqual({
      value: [{ target: 53, published: '5353', hostIp: '0.0.0.0', protocol: 'udp', mode: 'host' }],
    });
    expect(parsePort({ target: 80, host_ip: 'localhost' })).toEqual({ error: "host_ip 'localhost' is not an IP address" });
  });

  it('normalizes expose entries', () => {
    expect(parseExpose(3000)).toEqual({ value: '3000' });
    expect(parseExpose('8000-8010/udp')).toEqual({ value: '8000-8010/udp' });
    expect(parseExpose('abc')).toEqual({ error: "exposed port 'abc' is not a number or a range like 8000-8010" });
  });
});

describe('volume short syntax', () => {
  it.each([
    ['/var/lib/data', { type: 'volume', target: '/var/lib/data', readOnly: false, nocopy: false }],
    ['data:/data', { type: 'volume', source: 'data', target: '/data', readOnly: false, nocopy: false }],
    ['data:/data:ro,nocopy', { type: 'volume', source: 'data', target: '/data', readOnly: true, nocopy: true }],
    ['/abs/path:/app:rw', { type: 'bind', source: '/abs/path', target: '/app', readOnly: false, createHostPath: true }],
    ['/etc/tz:/etc/tz:ro,z', { type: 'bind', source: '/etc/tz', target: '/etc/tz', readOnly: true, createHostPath: true }],
  ] as const)('%s', (input, expected) => {
    expect(parseVolume(input)).toEqual({ value: expected });
  });

  it('rejects a name that is neither a path nor a volume name', () => {
    expect(parseVolume('my data:/data')).toEqual({ error: "invalid volume 'my data:/data': 'my data' is neither a path (start it with ./ or /) nor a volume name" });
  });

  it('reads the long syntax by type', () => {
    expect(parseVolume({ type: 'bind', source: '/src', target: '/app', read_only: true, bind: { create_host_path: true } })).toEqual({
      value: { type: 'bind', source: '/src', target: '/app', readOnly: true, createHostPath: true },
    });
    expect(parseVolume({ type: 'volume', source: 'db', target: '/db', volume: { nocopy: true } })).toEqual({ value: { type: 'volume', source: 'db', target: '/db', readOnly: false, nocopy: true } });
    expect(parseVolume({ type: 'tmpfs', target: '/tmp', tmpfs: { size: '64m', mode: 0o1777 } })).toEqual({ value: { type: 'tmpfs', target: '/tmp', size: 67108864, mode: 0o1777 } });
    expect(parseVolume({ type: 'tmpfs', target: '/tmp', source: 'x' })).toEqual({ error: 'a tmpfs mount has no source' });
  });
});

describe('commands split like a shell', () => {
  it.each([
    ['npm run start', ['npm', 'run', 'start']],
    [`sh -c 'echo "$HOME" && sleep 1'`, ['sh', '-c', 'echo "$HOME" && sleep 1']],
    ['echo "a \\"quoted\\" word"  b', ['echo', 'a "quoted" word', 'b']],
    ['echo a\\ b', ['echo', 'a b']],
    ['echo ""', ['echo', '']],
    ['  ', []],
  ])('%s', (input, words) => {
    expect(shellWords(input)).toEqual({ words });
  });

  it('reports an unterminated double quote', () => {
    expect(shellWords('echo "hi')).toEqual({ error: `unterminated double quote in 'echo "hi'` });
  });
});

describe('byte sizes', () => {
  it.each([
    ['512M', 536870912],
    ['1g', 1073741824],
    ['1.5GB', 1610612736],
    ['100k', 102400],
    ['64mb', 67108864],
    ['2048', 2048],
    ['10b', 10],
    [1024, 1024],
  ] as const)('%s', (input, bytes) => {
    expect(parseBytes(input)).toBe(bytes);
  });

  it.each(['512X', '-1M', 'lots', ''] as const)('rejects %s', (input) => {
    expect(parseBytes(input)).toBeUndefined();
  });
});
