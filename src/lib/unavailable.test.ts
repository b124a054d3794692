import { describe, expect, it } from 'vitest';
import { namedDependency, tagDependency, unavailableDependency } from './unavailable.js';

const socketError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });

describe('which dependency an error names', () => {
  it('a bare socket error names none itself; the caller may say whose socket it was', () => {
    const err = socketError('ECONNREFUSED');
    expect(namedDependency(err)).toBeNull();
    expect(unavailableDependency(err)).toBe('database');
    expect(unavailableDependency(err, 'redis')).toBe('redis');
  });

  it('a socket error met on a database connection is tagged and then named, even wrapped by a query error', () => {
    const err = socketError('ECONNREFUSED');
    tagDependency(err, 'database');
    const wrapped = Object.assign(new Error('Failed query: select 1'), { cause: err });
    expect(namedDependency(wrapped)).toBe('database');
  });

  it('an error that is not an outage is never tagged', () => {
    const err = Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' });
    tagDependency(err, 'database');
    expect(namedDependency(err)).toBeNull();
    expect(unavailableDependency(err)).toBeNull();
  });

  it('PostgreSQL and Redis errors name themselves', () => {
    expect(namedDependency(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(
      'database',
    );
    expect(namedDependency(new Error('Connection is closed.'))).toBe('redis');
  });
});
