/** Matrix expansion: the cartesian product in a stable order, labels and run ids, and the guard against explosion. */
import { describe, expect, it } from 'vitest';
import { cellLabel, expandMatrix, MAX_MATRIX_CELLS, runIdOf } from '../../../src/testing/index.js';

describe('expandMatrix', () => {
  it('gives one empty cell without a matrix', () => {
    expect(expandMatrix({})).toEqual([{}]);
  });

  it('gives one cell per value of a single variable, in declared order', () => {
    expect(expandMatrix({ NODE_VERSION: ['20', '18'] })).toEqual([{ NODE_VERSION: '20' }, { NODE_VERSION: '18' }]);
  });

  it('gives the cartesian product, variables by name (the first varying slowest), values in declared order', () => {
    expect(expandMatrix({ PG: ['16', '15'], NODE_VERSION: ['18', '20'], ARCH: ['amd64'] })).toEqual([
      { ARCH: 'amd64', NODE_VERSION: '18', PG: '16' },
      { ARCH: 'amd64', NODE_VERSION: '18', PG: '15' },
      { ARCH: 'amd64', NODE_VERSION: '20', PG: '16' },
      { ARCH: 'amd64', NODE_VERSION: '20', PG: '15' },
    ]);
  });

  it('does not depend on the order the variables were written in', () => {
    expect(expandMatrix({ B: ['1', '2'], A: ['x', 'y'] })).toEqual(expandMatrix({ A: ['x', 'y'], B: ['1', '2'] }));
  });

  it('gives no cell when a variable has no value', () => {
    expect(expandMatrix({ A: ['1'], B: [] })).toEqual([]);
  });

  it(`expands up to ${MAX_MATRIX_CELLS} cells and refuses one more, without building them`, () => {
    const values = (count: number): string[] => Array.from({ length: count }, (_, i) => String(i));
    expect(expandMatrix({ A: values(16), B: values(16) })).toHaveLength(256);
    expect(() => expandMatrix({ A: values(1000), B: values(1000), C: values(1000) })).toThrow(
      expect.objectContaining({ code: 'MATRIX_TOO_LARGE', message: 'the matrix over A, B, C expands to 1000000000 runs, more than 256' }),
    );
    expect(() => expandMatrix({ A: values(257) })).toThrow('expands to 257 runs');
  });
});

describe('cellLabel and runIdOf', () => {
  it('label a cell with its variables sorted by name', () => {
    expect(cellLabel({ PG: '15', NODE_VERSION: '18' })).toBe('NODE_VERSION=18,PG=15');
    expect(cellLabel({})).toBe('');
  });

  it('name a run by service and suite, with the cell in brackets when there is one', () => {
    expect(runIdOf('orders', 'unit', {})).toBe('orders:unit');
    expect(runIdOf('orders', 'unit', { PG: '15', NODE_VERSION: '18' })).toBe('orders:unit[NODE_VERSION=18,PG=15]');
  });
});
