/** Broken files as a new user writes them: YAML mistakes, wrong top level, missing files. */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpecError, UsageError } from '../../../src/core/errors.js';
import { loadStack } from '../../../src/spec/index.js';
import { HOME, issueOf, issuesOf, writeProject, yaml } from './helpers.js';

describe('YAML syntax', () => {
  it('reports a tab used for indentation at its line', async () => {
    const compose = yaml('services:', '  api:', '    image: nginx', '\tports: ["80:80"]');
    expect(await issueOf({ 'compose.yaml': compose })).toBe('compose.yaml:4:1 invalid YAML: a tab is used for indentation; YAML only allows spaces');
  });

  it('reports a key indented less than its siblings', async () => {
    const compose = yaml('services:', '  api:', '    image: nginx', '   ports: ["80:80"]');
    expect(await issueOf({ 'compose.yaml': compose })).toBe(
      'compose.yaml:4:1 invalid YAML: bad indentation: keys of the same mapping must start at the same column',
    );
  });

  it('reports an unclosed quote', async () => {
    const compose = yaml('services:', '  api:', '    image: "nginx', '');
    expect(await issueOf({ 'compose.yaml': compose })).toBe('compose.yaml:3:12 invalid YAML: missing closing "quote');
  });

  it('reports a duplicate key at the second occurrence, naming the first', async () => {
    const compose = yaml('services:', '  api:', '    image: nginx', '    ports: ["80"]', '    image: redis');
    expect(await issueOf({ 'compose.yaml': compose })).toBe("compose.yaml:5:5 services.api.image: duplicate key 'image' (first defined at line 3)");
  });

  it('reports a duplicate service', async () => {
    const compose = yaml('services:', '  api:', '    image: nginx', '  api:', '    image: redis');
    expect(await issueOf({ 'compose.yaml': compose })).toBe("compose.yaml:4:3 services.api: duplicate key 'api' (first defined at line 2)");
  });

  it('reports an alias to an anchor that does not exist', async () => {
    const compose = yaml('services:', '  api:', '    <<: *common', '    image: nginx');
    expect(await issueOf({ 'compose.yaml': compose })).toBe('compose.yaml:3:9 services.api: alias *common does not name an anchor defined before it');
  });
});

describe('the file as a whole', () => {
  it('rejects an empty file', async () => {
    expect(await issueOf({ 'compose.yaml': '' })).toBe('compose.yaml:1:1 the file is empty; expected a mapping with a services: key');
  });

  it('rejects a file holding only comments', async () => {
    expect(await issueOf({ 'compose.yaml': '# nothing yet\n' })).toBe('compose.yaml:1:1 the file is empty; expected a mapping with a services: key');
  });

  it('rejects a file that is a list', async () => {
    expect(await issueOf({ 'compose.yaml': yaml('- api', '- db') })).toBe(
      'compose.yaml:1:1 expected a mapping at the top level (services:, networks:, volumes:…), found a list',
    );
  });

  it('rejects a file that is a plain string', async () => {
    expect(await issueOf({ 'compose.yaml': 'hello\n' })).toBe(
      "compose.yaml:1:1 expected a mapping at the top level (services:, networks:, volumes:…), found 'hello'",
    );
  });

  it('names a misspelt top-level key', async () => {
    expect(await issueOf({ 'compose.yaml': yaml('servics:', '  api:', '    image: nginx') })).toBe(
      "compose.yaml:1:1 servics: unknown key 'servics'; did you mean 'services'?",
    );
  });

  it('rejects services written as a list', async () => {
    expect(await issueOf({ 'compose.yaml': yaml('services:', '  - api', '  - db') })).toBe('compose.yaml:2:3 services: expected a mapping, found a list');
  });

  it('points at a service whose keys are not indented under it', async () => {
    expect(await issuesOf({ 'compose.yaml': yaml('services:', '  api:', '  image: nginx') })).toEqual([
      "compose.yaml:2:3 services.api: expected a mapping of service settings, found an empty value (are its keys indented under 'api:'?)",
      "compose.yaml:3:10 services.image: expected a mapping of service settings, found 'nginx' ('image' is a service setting: is it indented under its service?)",
    ]);
  });

  it('reports a -f file that does not exist', async () => {
    const issues = await issuesOf({ 'compose.yaml': yaml('services: {}') }, { files: ['compose.yaml', 'compose.prod.yaml'] });
    expect(issues).toEqual(['Compose file compose.prod.yaml does not exist']);
  });

  it('reports a -f that names a directory', async () => {
    const dir = await writeProject({ 'compose.yaml': yaml('services: {}') });
    await mkdir(path.join(dir, 'deploy'));
    const error = await loadStack({ cwd: dir, files: ['deploy'], env: { HOME } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpecError);
    expect((error as SpecError).message).toBe(`${path.join(dir, 'deploy')} is a directory, not a Compose file`);
  });

  it('reports every broken file, not only the first', async () => {
    const issues = await issuesOf(
      { 'compose.yaml': yaml('services:', '\tapi: {}'), 'override.yaml': yaml('services:', '  api:', '    image: a', '    image: b') },
      { files: ['compose.yaml', 'override.yaml'] },
    );
    expect(issues).toEqual([
      'compose.yaml:2:1 invalid YAML: a tab is used for indentation; YAML only allows spaces',
      "override.yaml:4:5 services.api.image: duplicate key 'image' (first defined at line 3)",
    ]);
  });

  it('says where it looked when there is no Compose file at all', async () => {
    const dir = await writeProject({ 'README.md': 'no compose here' });
    const error = await loadStack({ cwd: dir, env: { HOME } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(/^no Compose file found in .*project or any parent directory \(looked for compose\.yaml, compose\.yml, docker-compose\.yaml, docker-compose\.yml\)$/);
  });
});
