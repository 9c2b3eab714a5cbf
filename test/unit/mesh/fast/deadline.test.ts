/** The caller connection's attempt deadline: one timer re-armed lazily, never firing for a deadline not yet passed. */
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { Deadline, type DeadlineHolder } from '../../../../src/mesh/http/fast/deadline.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});

afterEach(() => {
  vi.useRealTimers();
});

function holder(): DeadlineHolder & { passed: number } {
  const one = { passed: 0, deadlinePassed: () => one.passed++ };
  return one;
}

test('a deadline passes once, at its time', () => {
  const deadline = new Deadline();
  const first = holder();
  deadline.set(performance.now() + 100, first);
  vi.advanceTimersByTime(99);
  expect(first.passed).toBe(0);
  vi.advanceTimersByTime(1);
  expect(first.passed).toBe(1);
  vi.advanceTimersByTime(1_000);
  expect(first.passed).toBe(1);
});

test('a deadline cleared in time never passes; a later one set meanwhile passes at its own time, not the earlier one', () => {
  const deadline = new Deadline();
  const first = holder();
  const second = holder();
  deadline.set(performance.now() + 100, first);
  vi.advanceTimersByTime(60);
  deadline.clear(first);
  deadline.set(performance.now() + 100, second);
  // The timer armed for the first deadline fires at 100 and finds the second one not yet passed.
  vi.advanceTimersByTime(99);
  expect([first.passed, second.passed]).toEqual([0, 0]);
  vi.advanceTimersByTime(1);
  expect([first.passed, second.passed]).toEqual([0, 1]);
});

test('a finished holder cannot clear the next one\'s deadline', () => {
  const deadline = new Deadline();
  const finished = holder();
  const next = holder();
  deadline.set(performance.now() + 100, finished);
  deadline.set(performance.now() + 100, next);
  deadline.clear(finished);
  vi.advanceTimersByTime(100);
  expect([finished.passed, next.passed]).toEqual([0, 1]);
});

test('a sooner deadline than the armed timer passes on time', () => {
  const deadline = new Deadline();
  const late = holder();
  const soon = holder();
  deadline.set(performance.now() + 1_000, late);
  deadline.clear(late);
  deadline.set(performance.now() + 50, soon);
  vi.advanceTimersByTime(50);
  expect(soon.passed).toBe(1);
});

test('a disposed deadline leaves no timer behind', () => {
  const deadline = new Deadline();
  const one = holder();
  deadline.set(performance.now() + 100, one);
  deadline.dispose();
  expect(vi.getTimerCount()).toBe(0);
  vi.advanceTimersByTime(1_000);
  expect(one.passed).toBe(0);
});
