/** The InputError `f` throws; the test fails when it throws nothing or something else. */
import { expect } from 'vitest';
import { InputError } from '../src/model/errors.js';

export function thrown(f: () => unknown): InputError {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError');
}
