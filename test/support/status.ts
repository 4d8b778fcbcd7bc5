import { DomainError } from '../../functions/domain/errors.js';

/** The HTTP status a domain decision amounts to: 200 when it passes, its error's status when it throws. */
export function statusOf(fn: () => unknown): number {
  try {
    fn();
    return 200;
  } catch (error) {
    if (error instanceof DomainError) return error.status;
    throw error;
  }
}
