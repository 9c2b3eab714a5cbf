/** `x-flotilla.tests` of a service: named test suites. */
import * as z from 'zod';
import { duration, keyValues, str, strictObject, strList } from './common.js';

/** One matrix value: numbers are kept as their decimal text (`18`), as build args and environment need strings. */
const matrixValue = z.union([z.string(), z.number().transform(String)], { error: 'a string or a number' });

/** One suite as written. */
export const testSuiteSchema = strictObject({
  command: z.union([z.string(), z.array(str)], { error: 'a command string or a list of arguments' }),
  image: str.optional(),
  target: str.optional(),
  needs: strList.optional(),
  environment: keyValues.optional(),
  timeout: duration.optional(),
  junit: str.optional(),
  after: strList.optional(),
  matrix: z.record(z.string(), z.array(matrixValue)).optional(),
  working_dir: str.optional(),
});

/** `tests:`: suite name → suite; empty means none. */
export const testsSchema = z.record(z.string(), testSuiteSchema).nullable();

/** One suite as written. */
export type RawTestSuite = z.output<typeof testSuiteSchema>;
