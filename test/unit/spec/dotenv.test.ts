/** .env syntax: the lines people write, and the mistakes they make. */
import { describe, expect, it } from 'vitest';
import { parseDotEnv } from '../../../src/spec/dotenv.js';
import { issueOf, yaml } from './helpers.js';

function parse(text: string, shell: Record<string, string> = {}): Record<string, string | undefined> {
  const result = parseDotEnv(text, '.env', (name) => shell[name]);
  expect(result.problems).toEqual([]);
  return Object.fromEntries(result.values);
}

describe('parseDotEnv', () => {
  it('reads KEY=VALUE, export, comments, blanks and empty values', () => {
    const text = ['# settings', '', 'A=1', 'export B=two words', 'C=', '  D = spaced  ', 'E=value # trailing comment', 'F=a#b'].join('\n');
    expect(parse(text)).toEqual({ A: '1', B: 'two words', C: '', D: 'spaced', E: 'value', F: 'a#b' });
  });

  it('keeps single-quoted values literal and unescapes double-quoted ones', () => {
    const text = ["A='$HOME \\n'", 'B="line1\\nline2\\t\\"q\\" \\\\ \\$HOME"', 'C="# not a comment"'].join('\n');
    expect(parse(text, { HOME: '/h' })).toEqual({ A: '$HOME \\n', B: 'line1\nline2\t"q" \\ $HOME', C: '# not a comment' });
  });

  it('lets a double-quoted value span lines', () => {
    expect(parse('KEY="-----BEGIN\nabc\n-----END"\nNEXT=1')).toEqual({ KEY: '-----BEGIN\nabc\n-----END', NEXT: '1' });
  });

  it('interpolates from earlier lines and the environment', () => {
    expect(parse('HOST=db\nURL=postgres://${HOST}:${PORT:-5432}/$NAME', { NAME: 'shop' })).toEqual({ HOST: 'db', URL: 'postgres://db:5432/shop' });
  });

  it('reads a bare KEY as "take it from the environment"', () => {
    expect(parse('TOKEN')).toEqual({ TOKEN: undefined });
  });

  it('reports a line that is not KEY=VALUE, with its position', () => {
    const result = parseDotEnv('A=1\n  not a variable\n', 'app.env', () => undefined);
    expect(result.problems).toEqual([{ position: { file: 'app.env', line: 2, column: 3 }, message: "expected KEY=VALUE with KEY made of letters, digits and _, found 'not a variable'" }]);
  });

  it('reports an unclosed quote', () => {
    const result = parseDotEnv('A="open\nB=2\n', 'app.env', () => undefined);
    expect(result.problems).toEqual([{ position: { file: 'app.env', line: 1, column: 3 }, message: 'missing closing " for the value of A' }]);
  });
});

describe('.env problems in a project', () => {
  it('are reported with the .env position', async () => {
    expect(await issueOf({ 'compose.yaml': yaml('services: {}'), '.env': 'OK=1\n1BAD=2\n' })).toBe(".env:2:1 expected KEY=VALUE with KEY made of letters, digits and _, found '1BAD=2'");
  });

  it('a service env_file is read with the same rules, environment winning over it', async () => {
    const { load } = await import('./helpers.js');
    const files = {
      'compose.yaml': yaml('services:', '  api:', '    image: nginx', '    env_file: [app.env]', '    environment:', '      LEVEL: debug', '      TOKEN:'),
      'app.env': yaml('LEVEL=info', 'export NAME="api server"', 'TOKEN'),
    };
    const { stack } = await load(files, { env: { TOKEN: 'from-shell' } });
    expect(stack.services['api']?.environment).toEqual({ LEVEL: 'debug', NAME: 'api server', TOKEN: 'from-shell' });
  });
});
