/** Interpolation: every form from the Compose Specification, errors with positions, warnings, .env precedence. */
import { describe, expect, it } from 'vitest';
import { interpolate, InterpolationError } from '../../../src/spec/interpolate.js';
import { issueOf, issuesOf, load, yaml } from './helpers.js';

const env: Record<string, string> = { NAME: 'web', EMPTY: '', TAG: '1.2', FALLBACK: 'fb' };
function failure(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof InterpolationError) return error.message;
    throw error;
  }
  throw new Error('expected an InterpolationError');
}

const run = (text: string): string => interpolate(text, (name) => (Object.hasOwn(env, name) ? env[name] : undefined)).value;

describe('interpolate', () => {
  it.each([
    ['${NAME}', 'web'],
    ['$NAME', 'web'],
    ['$NAME-$TAG', 'web-1.2'],
    ['${NAME}_x', 'web_x'],
    ['${MISSING:-dflt}', 'dflt'],
    ['${EMPTY:-dflt}', 'dflt'],
    ['${NAME:-dflt}', 'web'],
    ['${MISSING-dflt}', 'dflt'],
    ['${EMPTY-dflt}', ''],
    ['${NAME:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${MISSING:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${MISSING+alt}', ''],
    ['${EMPTY?must be set}', ''],
    ['${NAME:?must be set}', 'web'],
    ['$$NAME', '$NAME'],
    ['$${NAME}', '${NAME}'],
    ['cost: 5$', 'cost: 5$'],
    ['a $ b', 'a $ b'],
    ['${MISSING:-${FALLBACK}}', 'fb'],
    ['${MISSING:-${ALSO_MISSING:-deep}}', 'deep'],
    ['${MISSING:-x-${TAG}-y}', 'x-1.2-y'],
    ['${MISSING:-{braces}}', '{braces}'],
  ])('%s → %s', (text, expected) => {
    expect(run(text)).toBe(expected);
  });

  it('records unset variables that became empty strings, once each', () => {
    expect(interpolate('${A}-${A}-$B-${C:-x}', () => undefined)).toEqual({ value: '---x', unset: ['A', 'B'] });
  });

  it.each([
    ['${MISSING:?set it in .env}', "required variable 'MISSING' is missing a value: set it in .env"],
    ['${EMPTY:?}', "required variable 'EMPTY' is missing a value"],
    ['${MISSING?no ${NAME}}', "required variable 'MISSING' is missing a value: no web"],
    ['${NAME', "unterminated '${' in '${NAME'; use '$$' for a literal '$'"],
    ['${}', "invalid variable reference '${}'; use '$$' for a literal '$'"],
    ['${1ABC}', "invalid variable reference '${1ABC}'; use '$$' for a literal '$'"],
  ])('%s fails: %s', (text, message) => {
    expect(failure(() => run(text))).toBe(message);
  });

  it('rejects shell features Compose does not support', () => {
    expect(() => run('${NAME/w/W}')).toThrow(/^invalid variable reference '\$\{NAME\/w\/W\}'; supported forms are/);
  });
});

describe('interpolation in Compose files', () => {
  it('applies to values everywhere, including short syntax strings, but not to keys', async () => {
    const { stack } = await load(
      {
        'compose.yaml': yaml(
          'services:',
          '  api:',
          '    image: "registry/${APP}:${TAG:-latest}"',
          '    ports: ["${PORT}:80"]',
          '    labels:',
          '      ${APP}: literal-key',
          '    environment:',
          '      - "GREETING=hello $$USER"',
        ),
      },
      { env: { APP: 'shop', PORT: '8080' } },
    );
    const api = stack.services['api'];
    expect(api?.image).toBe('registry/shop:latest');
    expect(api?.ports).toEqual([{ target: 80, published: '8080', protocol: 'tcp', mode: 'ingress' }]);
    expect(api?.labels).toEqual({ '${APP}': 'literal-key' });
    expect(api?.environment).toEqual({ GREETING: 'hello $USER' });
  });

  it('accepts interpolated numbers and booleans where numbers and booleans are expected', async () => {
    const files = { 'compose.yaml': yaml('services:', '  api:', '    image: nginx', '    scale: ${REPLICAS}', '    read_only: ${RO}') };
    const { stack } = await load(files, { env: { REPLICAS: '3', RO: 'true' } });
    expect(stack.services['api']?.replicas).toBe(3);
    expect(stack.services['api']?.readOnly).toBe(true);
  });

  it('reports a missing required variable with the file, line, column and key path', async () => {
    const files = { 'compose.yaml': yaml('services:', '  db:', '    image: postgres', '    environment:', '      POSTGRES_PASSWORD: ${DB_PASSWORD:?set DB_PASSWORD in .env}') };
    expect(await issueOf(files)).toBe(
      "compose.yaml:5:26 services.db.environment.POSTGRES_PASSWORD: required variable 'DB_PASSWORD' is missing a value: set DB_PASSWORD in .env",
    );
  });

  it('reports every missing variable, and nothing else about those values', async () => {
    const files = { 'compose.yaml': yaml('services:', '  api:', '    image: ${IMAGE:?}', '    ports: ["${PORT?}:80"]') };
    expect(await issuesOf(files)).toEqual([
      "compose.yaml:3:12 services.api.image: required variable 'IMAGE' is missing a value",
      "compose.yaml:4:13 services.api.ports[0]: required variable 'PORT' is missing a value",
    ]);
  });

  it('warns once per unset variable, naming where it was first used, and substitutes an empty string', async () => {
    const files = { 'compose.yaml': yaml('services:', '  api:', '    image: nginx${SUFFIX}', '    environment:', '      A: ${SUFFIX}', '      B: ${OTHER}') };
    const { stack, warnings } = await load(files);
    expect(stack.services['api']?.image).toBe('nginx');
    expect(warnings).toEqual([
      "compose.yaml:3:12 services.api.image: variable 'SUFFIX' is not set; using an empty string",
      "compose.yaml:6:10 services.api.environment.B: variable 'OTHER' is not set; using an empty string",
    ]);
  });

  it('takes variables from .env, and the shell wins over .env', async () => {
    const files = {
      'compose.yaml': yaml('services:', '  api:', '    image: "${IMAGE}:${TAG}"'),
      '.env': yaml('IMAGE=from-dotenv', 'TAG=dotenv'),
    };
    const { stack } = await load(files, { env: { TAG: 'shell' } });
    expect(stack.services['api']?.image).toBe('from-dotenv:shell');
  });

  it('uses --env-file instead of .env, later files winning', async () => {
    const files = {
      'compose.yaml': yaml('services:', '  api:', '    image: "${IMAGE}:${TAG}"'),
      '.env': yaml('IMAGE=ignored', 'TAG=ignored'),
      'env/base.env': yaml('IMAGE=base', 'TAG=base'),
      'env/prod.env': yaml('TAG=prod'),
    };
    const { stack } = await load(files, { envFiles: ['env/base.env', 'env/prod.env'] });
    expect(stack.services['api']?.image).toBe('base:prod');
  });

  it('reports an --env-file that does not exist', async () => {
    expect(await issuesOf({ 'compose.yaml': yaml('services: {}') }, { envFiles: ['prod.env'] })).toEqual(['--env-file: env file prod.env does not exist']);
  });

  it('does not interpolate single-quoted .env values but does double-quoted and bare ones', async () => {
    const files = {
      'compose.yaml': yaml('services:', '  api:', '    image: nginx', '    environment:', '      A: $A', '      B: $B', '      C: $C'),
      '.env': yaml('BASE=x', "A='${BASE}'", 'B="${BASE}-y"', 'C=${BASE}z'),
    };
    const { stack } = await load(files);
    expect(stack.services['api']?.environment).toEqual({ A: '${BASE}', B: 'x-y', C: 'xz' });
  });
});
