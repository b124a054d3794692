import { describe, expect, it } from 'vitest';
import { pyRound1 } from './py-round.js';

describe('pyRound1 (Python round(x, 1))', () => {
  // Expected values are what CPython 3 prints for round(x, 1).
  it.each([
    [7.25, 7.2],
    [7.35, 7.3],
    [7.45, 7.5],
    [7.75, 7.8],
    [2.675, 2.7],
    [0.05, 0.1],
    [0.15, 0.1],
    [0.25, 0.2],
    [0.35, 0.3],
    [0.75, 0.8],
    [8.0, 8],
    [7 / 3, 2.3],
    [20 / 3, 6.7],
    [5.5, 5.5],
    [-0.25, -0.2],
    [-7.35, -7.3],
    [-0.75, -0.8],
  ])('round(%d, 1) = %d', (x, expected) => {
    expect(pyRound1(x)).toBe(expected);
  });
});
