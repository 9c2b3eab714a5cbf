/** Matrix expansion: a suite's `matrix:` → one cell per combination of values, and the readable id of each run. */
import { FlotillaError } from '../core/errors.js';
import { MAX_MATRIX_CELLS } from '../spec/resolve/tests.js';
import type { MatrixCell } from './types.js';

export { MAX_MATRIX_CELLS };

/**
 * Every combination of values, variables sorted by name and values in declared order, the first
 * variable varying slowest (`A=1,B=1`, `A=1,B=2`, `A=2,B=1`…); `[{}]` without a matrix. The loader
 * rejects a matrix above MAX_MATRIX_CELLS; this throws too, for stacks built in code.
 */
export function expandMatrix(matrix: Readonly<Record<string, readonly string[]>>): MatrixCell[] {
  const variables = Object.keys(matrix).sort();
  const size = variables.reduce((product, variable) => product * (matrix[variable]?.length ?? 0), 1);
  if (size > MAX_MATRIX_CELLS) {
    throw new FlotillaError('MATRIX_TOO_LARGE', `the matrix over ${variables.join(', ')} expands to ${size} runs, more than ${MAX_MATRIX_CELLS}`);
  }
  let cells: MatrixCell[] = [{}];
  for (const variable of variables) {
    const values = matrix[variable] ?? [];
    cells = cells.flatMap((cell) => values.map((value) => ({ ...cell, [variable]: value })));
  }
  return cells;
}

/** `NODE_VERSION=18,PG=15`, variables sorted; empty for the cell of a suite without a matrix. */
export function cellLabel(cell: MatrixCell): string {
  return Object.keys(cell)
    .sort()
    .map((variable) => `${variable}=${cell[variable] ?? ''}`)
    .join(',');
}

/** The id of a run: `orders:unit`, or `orders:unit[NODE_VERSION=18]` for a cell of a matrix. */
export function runIdOf(service: string, suite: string, cell: MatrixCell): string {
  const label = cellLabel(cell);
  return label === '' ? `${service}:${suite}` : `${service}:${suite}[${label}]`;
}
