/**
 * Large files load completely and correctly. How fast is measured by bench/ (config on 200
 * services, and its growth with the number of services), never asserted here: a test does not
 * assert a wall-clock time.
 */
import { expect, it } from 'vitest';
import { renderStack } from '../../../src/spec/index.js';
import { issuesOf, load } from './helpers.js';

function bigCompose(count: number): string {
  const lines = ['name: big', 'x-defaults: &defaults', '  restart: unless-stopped', '  logging: { driver: json-file, options: { max-size: 10m } }', 'services:'];
  for (let i = 0; i < count; i++) {
    lines.push(
      `  svc${i}:`,
      '    <<: *defaults',
      `    image: "registry.example.com/team/svc${i}:\${TAG:-1.0}"`,
      `    ports: ["${10000 + i}:8080", "127.0.0.1:${20000 + i}:9090/udp"]`,
      '    environment:',
      `      SERVICE_NAME: svc${i}`,
      '      DATABASE_URL: postgres://db:5432/app',
      '      LOG_LEVEL: info',
      `    labels: ["com.example.index=${i}", "com.example.team=core"]`,
      `    volumes: ["data${i % 10}:/data", "./config/svc${i}:/etc/svc:ro"]`,
      '    healthcheck:',
      '      test: ["CMD", "wget", "-qO-", "http://localhost:8080/health"]',
      '      interval: 10s',
      `    depends_on: ${i < 2 ? '[]' : `[svc${i - 1}, svc${Math.floor(i / 2) - 1}]`}`,
      '    networks: [front, back]',
      '    deploy: { resources: { limits: { cpus: "0.5", memory: 256M } } }',
    );
  }
  lines.push('networks:', '  front:', '  back:', 'volumes:');
  for (let v = 0; v < 10; v++) lines.push(`  data${v}:`);
  return `${lines.join('\n')}\n`;
}

// Every service uses the same anchor: aliases resolve to the anchored defaults in each of them.
it('loads and renders 200 services that share an anchor', async () => {
  const { stack } = await load({ 'compose.yaml': bigCompose(200) });
  const rendered = renderStack(stack, 'yaml');
  expect(Object.keys(stack.services)).toHaveLength(200);
  expect(stack.services['svc199']?.restart).toBe('unless-stopped');
  expect(stack.services['svc199']?.logging).toEqual({ driver: 'json-file', options: { 'max-size': '10m' } });
  expect(rendered.length).toBeGreaterThan(100_000);
});

it('reports exactly the one problem in a large file, with its place', async () => {
  const text = bigCompose(200).replace('svc150:\n', 'svc150:\n    imgae: oops\n');
  const issues = await issuesOf({ 'compose.yaml': text });
  expect(issues).toHaveLength(1);
  expect(issues[0]).toMatch(/^compose\.yaml:\d+:5 services\.svc150\.imgae: unknown key 'imgae'; did you mean 'image'\?$/);
});
